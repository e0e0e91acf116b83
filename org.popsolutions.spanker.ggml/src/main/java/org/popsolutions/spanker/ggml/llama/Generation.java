package org.popsolutions.spanker.ggml.llama;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.BadDimsException;

/** Feeds a prompt one token at a time, then samples {@code n} tokens, each fed back for the next. */
public final class Generation {
    private Generation() {
    }

    /** Called after every generated token. */
    public interface Listener {
        void token(int index, int token);
    }

    /**
     * @param stopToken generation ends after this token (e.g. end of sequence), −1 for none
     * @return the generated tokens (not the prompt)
     */
    public static List<Integer> generate(ShardedLlama model, int[] prompt, int n, Sampler sampler, int stopToken,
            Listener listener) {
        if (prompt.length == 0) {
            throw new BadDimsException("the prompt has no token; give at least one");
        }
        int context = model.contextLength();
        if (prompt.length + Math.max(0, n - 1) > context) {
            throw new BadDimsException(prompt.length + " prompt tokens and " + n + " new ones exceed the context of "
                    + context + " tokens");
        }
        float[] logits = null;
        int position = 0;
        for (int token : prompt) {
            logits = model.forward(token, position++);
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int next = sampler.sample(logits);
            out.add(next);
            if (listener != null) {
                listener.token(i, next);
            }
            if (next == stopToken || i == n - 1) {
                break;
            }
            logits = model.forward(next, position++);
        }
        return out;
    }
}
