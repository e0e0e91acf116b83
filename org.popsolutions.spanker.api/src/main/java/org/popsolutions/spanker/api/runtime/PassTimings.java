package org.popsolutions.spanker.api.runtime;

/**
 * Time and traffic of a run of forward passes. Card compute is each card's busy time (waits for link messages
 * included); collectives and hand-offs run inside the cards' programs, so their time is part of the cards'.
 *
 * @param tokens forward passes
 * @param wallNanos their wall time
 * @param cardComputeNanos each card's busy time
 * @param collectives allreduces run
 * @param handOffs hidden states handed card to card
 */
public record PassTimings(int tokens, long wallNanos, long[] cardComputeNanos, int collectives, int handOffs) {
    public PassTimings {
        cardComputeNanos = cardComputeNanos.clone();
    }

    @Override
    public long[] cardComputeNanos() {
        return cardComputeNanos.clone();
    }
}
