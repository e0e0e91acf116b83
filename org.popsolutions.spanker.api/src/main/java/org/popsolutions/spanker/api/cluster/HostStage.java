package org.popsolutions.spanker.api.cluster;

/**
 * One host's stage of a pipeline across hosts, with its predicted cost per token.
 *
 * @param index the stage's place in the pipeline, 0 first
 * @param firstBlock the first transformer block it runs
 * @param endBlock one past its last block
 * @param embedding whether it holds the token embedding (the first stage)
 * @param head whether it computes the logits (the last stage)
 * @param cards the cards of its host it runs on
 * @param weightBytes the weights its cards hold together
 * @param kvCacheBytes its cards' KV caches together
 * @param computeSeconds predicted weight streaming per token (its busiest card, per block summed)
 * @param linkSeconds predicted inter-card collectives per token inside the host (0 on one card)
 * @param host the L3 node running it, e.g. {@code L3(0,0,0,2)}; empty in a plan not yet placed
 * @param pid the OS process of that node; 0 in a plan not yet placed
 * @param pod the pod (L4, counted from 0 along the pipeline) the stage's host is in
 * @param handOffSeconds predicted hand-off of its hidden state to the next stage per token (0 for the last stage);
 *        more when the next stage is in another pod
 */
public record HostStage(int index, int firstBlock, int endBlock, boolean embedding, boolean head, int cards,
        long weightBytes, long kvCacheBytes, double computeSeconds, double linkSeconds, String host, long pid, int pod,
        double handOffSeconds) {
    /** A stage in pod 0 whose hand-off is not costed here. */
    public HostStage(int index, int firstBlock, int endBlock, boolean embedding, boolean head, int cards,
            long weightBytes, long kvCacheBytes, double computeSeconds, double linkSeconds, String host, long pid) {
        this(index, firstBlock, endBlock, embedding, head, cards, weightBytes, kvCacheBytes, computeSeconds,
                linkSeconds, host, pid, 0, 0);
    }

    /** The stage's own time per token: its cards' compute and links, and handing its hidden state on. */
    public double stageSeconds() {
        return computeSeconds + linkSeconds + handOffSeconds;
    }

    public int blocks() {
        return endBlock - firstBlock;
    }
}
