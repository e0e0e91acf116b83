package org.popsolutions.spanker.runtime;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.model.llama.Sampler;

/** Feeds a prompt in batched passes, then samples up to {@code n} tokens, each fed back for the next. */
public final class Generation {
    private Generation() {
    }

    /** Called after every generated token. */
    public interface Listener {
        void token(int index, int token);
    }

    /**
     * @param tokens the generated tokens (not the prompt)
     * @param prompt timings of the prompt's forward passes
     * @param decode timings of the forward passes of generated tokens (one fewer than {@code tokens}: the last
     *        token is not fed back)
     * @param stopped whether generation ended at the stop token
     */
    public record Result(List<Integer> tokens, PlanExecutor.Stats prompt, PlanExecutor.Stats decode,
            boolean stopped) {
    }

    /**
     * @param stopToken generation ends after this token (e.g. end of sequence), −1 for none
     */
    public static Result run(PlanExecutor model, int[] prompt, int n, Sampler sampler, int stopToken,
            Listener listener) {
        if (prompt.length == 0) {
            throw new BadDimsException("the prompt has no token; give at least one");
        }
        if (n < 0) {
            throw new BadDimsException("cannot generate " + n + " tokens");
        }
        int context = model.contextLength();
        if (prompt.length + Math.max(0L, n - 1L) > context) {
            throw new BadDimsException(prompt.length + " prompt tokens and " + n + " new ones exceed the context of "
                    + context + " tokens");
        }
        model.resetStats();
        // one logits array for the whole run: nothing is allocated per token
        float[] logits = new float[model.config().vocabulary()];
        // the prompt in passes of many tokens, each product over all of them (the kernels' tiles read a weight block
        // once for several tokens); the logits are those of token-by-token processing
        model.prefill(prompt, 0, logits);
        int position = prompt.length;
        PlanExecutor.Stats promptStats = model.stats();
        model.resetStats();
        List<Integer> out = new ArrayList<>();
        boolean stopped = false;
        for (int i = 0; i < n; i++) {
            int next = sampler.sample(logits);
            out.add(next);
            if (listener != null) {
                listener.token(i, next);
            }
            if (next == stopToken) {
                stopped = true;
                break;
            }
            if (i == n - 1) {
                break;
            }
            model.forward(next, position++, logits);
        }
        return new Result(out, promptStats, model.stats(), stopped);
    }

    /** The generated tokens only. */
    public static List<Integer> generate(PlanExecutor model, int[] prompt, int n, Sampler sampler, int stopToken,
            Listener listener) {
        return run(model, prompt, n, sampler, stopToken, listener).tokens();
    }
}
