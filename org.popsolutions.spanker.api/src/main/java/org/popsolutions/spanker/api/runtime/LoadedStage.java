package org.popsolutions.spanker.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/** One stage of a pipeline placed on its cards. One forward pass at a time; closing it frees the cards. */
@ProviderType
public interface LoadedStage extends AutoCloseable {
    PipelineStage stage();

    /** The name of the card provider whose cards run it. */
    String cardProvider();

    /** Floats of the hidden state it takes (the embedding width), 0 for the first stage (it embeds the token). */
    int inputs();

    /** Floats it gives: the hidden state, or the logits (the vocabulary) for the last stage. */
    int outputs();

    /**
     * Runs the stage's blocks for {@code token} at {@code position}: {@code hiddenIn} ({@link #inputs()} floats, null
     * for the first stage) in, {@code out} ({@link #outputs()} floats) out.
     *
     * @throws org.popsolutions.spanker.api.SpankerException when a card fails or the values are not finite
     */
    void forward(int token, int position, float[] hiddenIn, float[] out);

    /** Weight bytes each card holds. */
    long[] weightBytesPerCard();

    /** KV-cache bytes each card holds. */
    long[] kvCacheBytesPerCard();

    @Override
    void close();
}
