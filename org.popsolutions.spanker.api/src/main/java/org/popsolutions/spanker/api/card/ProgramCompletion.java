package org.popsolutions.spanker.api.card;

/**
 * A program that ran to its end.
 *
 * @param card the card that ran it
 * @param ops ops executed
 * @param busyNanos time the card spent on it, waits for link messages included
 */
public record ProgramCompletion(int card, int ops, long busyNanos) {
}
