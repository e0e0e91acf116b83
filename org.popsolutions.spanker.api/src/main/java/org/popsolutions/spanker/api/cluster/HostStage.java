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
 */
public record HostStage(int index, int firstBlock, int endBlock, boolean embedding, boolean head, int cards,
        long weightBytes, long kvCacheBytes, double computeSeconds, double linkSeconds, String host, long pid) {
    public int blocks() {
        return endBlock - firstBlock;
    }
}
