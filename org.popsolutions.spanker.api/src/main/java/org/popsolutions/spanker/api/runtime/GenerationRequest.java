package org.popsolutions.spanker.api.runtime;

import java.util.Objects;

/**
 * @param prompt token ids fed first (at least one)
 * @param maxTokens tokens to generate at most (0 runs the prompt only)
 * @param sampling how the next token is chosen
 */
public record GenerationRequest(int[] prompt, int maxTokens, Sampling sampling) {
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(sampling, "sampling");
        prompt = prompt.clone();
    }

    @Override
    public int[] prompt() {
        return prompt.clone();
    }
}
