package org.popsolutions.spanker.model.llama;

import org.popsolutions.spanker.api.InvalidModelException;

/**
 * NaN and infinity from a model's weights are errors, not results. Where they appear matters: ggml's activation
 * quantization turns a NaN into 0, so a NaN norm weight or hidden state would otherwise vanish into plausible
 * logits (token 0, again and again) instead of surfacing in them.
 */
public final class NonFiniteValues {
    private NonFiniteValues() {
    }

    /** @throws InvalidModelException naming the position and the first non-finite logit */
    public static void inLogits(float[] logits, int position) {
        computed(logits, "logit", position, "token");
    }

    /** The normalized hidden state entering the output head (before ggml quantizes NaN away). */
    public static void inHiddenState(float[] normalized, int position) {
        computed(normalized, "hidden state", position, "value");
    }

    private static void computed(float[] values, String what, int position, String element) {
        int i = firstNonFinite(values);
        if (i >= 0) {
            throw new InvalidModelException("the model computed a non-finite " + what + " at position " + position
                    + " (" + element + " " + i + " of " + values.length + " is " + values[i] + "): its weights or"
                    + " hyper-parameters hold NaN or infinite values");
        }
    }

    /** A norm's weights, checked once at load. */
    public static void inTensor(float[] values, String tensor) {
        int i = firstNonFinite(values);
        if (i >= 0) {
            throw new InvalidModelException("tensor " + tensor + " holds a non-finite value (" + values[i]
                    + " at index " + i + ")");
        }
    }

    private static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }
}
