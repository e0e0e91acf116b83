package org.popsolutions.spanker.api.runtime;

import java.util.List;

/**
 * @param tokens the generated tokens (not the prompt)
 * @param text their text
 * @param finish why generation ended
 * @param prompt the prompt's forward passes
 * @param decode the forward passes of generated tokens fed back (one fewer than {@code tokens} when it ran to the
 *        end: the last token is not fed back)
 */
public record GenerationResult(List<Integer> tokens, String text, FinishReason finish, PassTimings prompt,
        PassTimings decode) {
    public GenerationResult {
        tokens = List.copyOf(tokens);
    }
}
