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
 */
public record HostPlan(String model, int hosts, int cardsPerHost, List<HostStage> stages, long handOffBytes,
        double handOffSeconds, double hostSeconds, double loadSeconds, List<String> notes) {
    public HostPlan {
        stages = List.copyOf(stages);
        notes = List.copyOf(notes);
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

    /** All hand-offs of one token. */
    public double handOffsSeconds() {
        return handOffs() * handOffSeconds;
    }

    public double secondsPerToken() {
        return computeSeconds() + linkSeconds() + handOffsSeconds() + hostSeconds;
    }
}
