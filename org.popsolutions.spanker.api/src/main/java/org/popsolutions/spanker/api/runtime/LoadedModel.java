package org.popsolutions.spanker.api.runtime;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;

/**
 * A model placed on its cards. One generation runs at a time: {@link #generate} callers from other threads wait
 * their turn. Closing it frees the cards.
 */
@ProviderType
public interface LoadedModel extends AutoCloseable {
    /** The model's name (general.name, else the file name). */
    String name();

    int vocabulary();

    /** Tokens the KV caches hold: prompt and generated tokens together. */
    int contextLength();

    /** The end-of-sequence token: generation stops after it. */
    int endOfSequence();

    Plan plan();

    /** Measured wall time of {@link InferenceService#load}: opening the cards, placing the shards, building programs. */
    double loadSeconds();

    /**
     * The part of {@link #loadSeconds()} the weights took to reach the cards: from the host's first weight write until
     * every card had answered the last, what {@link Plan#loadSeconds()} predicts. The rest of the load is the host's
     * own work (reading the file, placing the shards, allocating buffers, building programs, a warm-up). NaN when not
     * measured.
     *
     * @since 1.3
     */
    default double weightTransferSeconds() {
        return Double.NaN;
    }

    /** Weight bytes each card actually holds. */
    long[] weightBytesPerCard();

    /** KV-cache bytes each card holds. */
    long[] kvCacheBytesPerCard();

    /** The allreduce algorithm the tensor-parallel blocks use; {@code null} when no block spans two cards. */
    CollectiveAlgorithm allreduceAlgorithm();

    /** Text to token ids with the model's tokenizer, with BOS first when the model's prompts start with it. */
    int[] tokenize(String text);

    /** The model's chat template (GGUF {@code tokenizer.chat_template}); empty when the model carries none. */
    Optional<ChatTemplate> chatTemplate();

    /**
     * Text a chat template wrote, to token ids as llama.cpp's server does: the vocabulary's control and
     * user-defined tokens spelled in the text ({@code <|im_start|>}, {@code </s>}) become those tokens, the text
     * between them is tokenized as usual; BOS first when the model's prompts start with it (a BOS the template wrote
     * at the very start is that one, not a second).
     */
    int[] tokenizeChat(String text);

    /** Token ids to text; control tokens produce nothing, bad UTF-8 becomes U+FFFD. */
    String detokenize(List<Integer> tokens);

    /**
     * Feeds the prompt, then samples up to {@code maxTokens} tokens, each fed back for the next, stopping after
     * {@link #endOfSequence()}. {@code listener} (may be null) sees every generated token as it is sampled and is
     * asked before every forward pass whether to go on. Waits while another generation runs on this model.
     *
     * @throws org.popsolutions.spanker.api.BadDimsException when the prompt is empty or prompt and tokens exceed the
     *         context
     */
    GenerationResult generate(GenerationRequest request, TokenListener listener);

    /** The raw logits of one forward pass (for tools that compare logits); positions go 0, 1, 2, … */
    float[] logits(int token, int position);

    /** Time and traffic of the {@link #logits} passes since the model was loaded. */
    PassTimings logitsTimings();

    @Override
    void close();
}
