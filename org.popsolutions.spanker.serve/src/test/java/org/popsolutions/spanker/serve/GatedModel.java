package org.popsolutions.spanker.serve;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.ChatTemplate;
import org.popsolutions.spanker.api.runtime.GenerationRequest;
import org.popsolutions.spanker.api.runtime.GenerationResult;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.PassTimings;
import org.popsolutions.spanker.api.runtime.TokenEvent;
import org.popsolutions.spanker.api.runtime.TokenListener;

/**
 * A real model whose generations the test can hold: each waits at {@link #gate} before its first forward pass
 * and, when {@link #afterFirstToken} is set, after telling its first token. Every result is kept.
 */
final class GatedModel implements LoadedModel {
    private final LoadedModel model;
    volatile CountDownLatch gate = new CountDownLatch(0);
    volatile CountDownLatch afterFirstToken = new CountDownLatch(0);
    /** A pause after every token: a model as slow as a big one, so a generation outlasts its client. */
    volatile long tokenPauseMillis;
    final CountDownLatch started = new CountDownLatch(1);
    final List<GenerationResult> results = new CopyOnWriteArrayList<>();
    /** When set, the chat template the model claims instead of its own (a test's broken or refusing one). */
    volatile Optional<ChatTemplate> template;

    GatedModel(LoadedModel model) {
        this.model = model;
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never opened the gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void pause(long millis) {
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public GenerationResult generate(GenerationRequest request, TokenListener listener) {
        started.countDown();
        await(gate);
        CountDownLatch hold = afterFirstToken;
        GenerationResult result = model.generate(request, new TokenListener() {
            @Override
            public void token(TokenEvent event) {
                listener.token(event);
                if (event.index() == 0) {
                    await(hold);
                }
                pause(tokenPauseMillis);
            }

            @Override
            public boolean cancelled() {
                return listener.cancelled();
            }
        });
        results.add(result);
        return result;
    }

    @Override
    public String name() {
        return model.name();
    }

    @Override
    public int vocabulary() {
        return model.vocabulary();
    }

    @Override
    public int contextLength() {
        return model.contextLength();
    }

    @Override
    public int endOfSequence() {
        return model.endOfSequence();
    }

    @Override
    public Plan plan() {
        return model.plan();
    }

    @Override
    public double loadSeconds() {
        return model.loadSeconds();
    }

    @Override
    public long[] weightBytesPerCard() {
        return model.weightBytesPerCard();
    }

    @Override
    public long[] kvCacheBytesPerCard() {
        return model.kvCacheBytesPerCard();
    }

    @Override
    public CollectiveAlgorithm allreduceAlgorithm() {
        return model.allreduceAlgorithm();
    }

    @Override
    public int[] tokenize(String text) {
        return model.tokenize(text);
    }

    @Override
    public Optional<ChatTemplate> chatTemplate() {
        Optional<ChatTemplate> claimed = template;
        return claimed != null ? claimed : model.chatTemplate();
    }

    @Override
    public int[] tokenizeChat(String text) {
        return model.tokenizeChat(text);
    }

    @Override
    public String detokenize(List<Integer> tokens) {
        return model.detokenize(tokens);
    }

    @Override
    public float[] logits(int token, int position) {
        return model.logits(token, position);
    }

    @Override
    public PassTimings logitsTimings() {
        return model.logitsTimings();
    }

    @Override
    public void close() {
        model.close();
    }
}
