package org.popsolutions.spanker.api.cluster;

/**
 * How a task ended.
 *
 * @param ranOn the node that completed it (after a re-run, the sibling)
 * @param result the bytes the task returned (empty when it returned none or failed)
 * @param error why it failed, naming the node or the failed producer; {@code null} when it succeeded
 */
public record TaskOutcome(long taskId, String kernel, Coordinate ranOn, boolean succeeded, byte[] result,
        String error) {
}
