package org.popsolutions.spanker.api.plan;

/**
 * How the runtime takes a prompt: in passes of at most {@link #MAX_TOKENS} tokens, each pass one program per card
 * whose products run over all the pass's tokens at once (a card streams its weights once per pass). One fact for the
 * runtime that runs the passes and the planner that costs them.
 */
public interface PromptPass {
    /**
     * Tokens per prompt pass at most. 64 and not 32: the matrix-matrix kernel packs each weight tile once per pass,
     * so a longer pass halves the packing and the weight reads per token (measured: about 10–15 % less CPU per prompt
     * token than 32; 128 gained nothing more), while a pass's activation copies (64 × each activation) stay small.
     */
    int MAX_TOKENS = 64;
}
