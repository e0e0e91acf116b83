package org.popsolutions.spanker.api.cluster;

import java.util.List;

/**
 * A pipeline of a model across hosts and its prediction per decoded token: the stages run one after another, and
 * between two stages the hidden state is handed over once: read from the card over the host link, sent host to host,
 * written to the next host's card over its host link.
 *
 * @param handOffBytes bytes of one hand-off (the hidden state, float32)
 * @param handOffSeconds predicted time of one hand-off (three host-link-rate transfers, each with its latency)
 * @param hostSeconds the token in (to the first stage's cards) and the logits out (from the last stage's)
 * @param loadSeconds one-off: every card's weights over its host's link (hosts load in parallel)
 * @param crossPodHandOffSeconds predicted time of a hand-off between hosts of two pods
 * @param evenSplitBottleneckSeconds the slowest stage when the blocks are split evenly (llama.cpp's and exo's
 *        split), to set beside this plan's {@link #bottleneckSeconds()}
 */
public record HostPlan(String model, int hosts, int cardsPerHost, List<HostStage> stages, long handOffBytes,
        double handOffSeconds, double hostSeconds, double loadSeconds, List<String> notes,
        double crossPodHandOffSeconds, double evenSplitBottleneckSeconds) {
    public HostPlan {
        stages = List.copyOf(stages);
        notes = List.copyOf(notes);
    }

    /** A plan inside one pod, without the even split to compare with. */
    public HostPlan(String model, int hosts, int cardsPerHost, List<HostStage> stages, long handOffBytes,
            double handOffSeconds, double hostSeconds, double loadSeconds, List<String> notes) {
        this(model, hosts, cardsPerHost, stages, handOffBytes, handOffSeconds, hostSeconds, loadSeconds, notes,
                handOffSeconds, Double.NaN);
    }

    /**
     * The slowest stage per token (its compute, links and hand-off): with a token of another sequence in every
     * stage, the pipeline gives one token per this many seconds.
     */
    public double bottleneckSeconds() {
        return stages.stream().mapToDouble(HostStage::stageSeconds).max().orElse(0);
    }

    /** The pods the stages span. */
    public int pods() {
        return stages.stream().mapToInt(HostStage::pod).max().orElse(0) + 1;
    }

    public int handOffs() {
        return Math.max(0, stages.size() - 1);
    }

    public double computeSeconds() {
        return stages.stream().mapToDouble(HostStage::computeSeconds).sum();
    }

    public double linkSeconds() {
        return stages.stream().mapToDouble(HostStage::linkSeconds).sum();
    }

    /** All hand-offs of one token (each stage's to the next; the stages' own when they carry them). */
    public double handOffsSeconds() {
        double own = stages.stream().mapToDouble(HostStage::handOffSeconds).sum();
        return own > 0 ? own : handOffs() * handOffSeconds;
    }

    public double secondsPerToken() {
        return computeSeconds() + linkSeconds() + handOffsSeconds() + hostSeconds;
    }
}
