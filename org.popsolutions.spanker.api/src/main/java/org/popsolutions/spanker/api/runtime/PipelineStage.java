package org.popsolutions.spanker.api.runtime;

/**
 * One stage of a model cut into a pipeline: transformer blocks {@code [firstBlock, endBlock)}. The first stage embeds
 * the token, the last computes the logits; every other stage takes the hidden state from the one before it and gives
 * its own to the one after.
 *
 * @param embeds whether this stage looks the token up in the embedding (then it takes no hidden state)
 * @param head whether this stage computes the logits (then it gives no hidden state)
 */
public record PipelineStage(int firstBlock, int endBlock, boolean embeds, boolean head) {
    public PipelineStage {
        if (firstBlock < 0 || endBlock <= firstBlock) {
            throw new IllegalArgumentException("a stage holds blocks [first, end) with 0 <= first < end, got ["
                    + firstBlock + ", " + endBlock + ")");
        }
    }
}
