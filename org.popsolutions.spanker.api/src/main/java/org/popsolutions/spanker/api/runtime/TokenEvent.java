package org.popsolutions.spanker.api.runtime;

/**
 * One generated token, as it is sampled.
 *
 * @param index 0 for the first generated token
 * @param token its id
 * @param text the text it completes (empty while a multi-byte character is still incomplete)
 * @param measuredSeconds wall time of the forward pass whose logits it was sampled from
 * @param computeSeconds the busiest card's busy time in that pass
 * @param predictedSeconds the plan's predicted time per token
 * @param tokensPerSecond generated tokens per second so far (from the end of the prompt)
 */
public record TokenEvent(int index, int token, String text, double measuredSeconds, double computeSeconds,
        double predictedSeconds, double tokensPerSecond) {
}
