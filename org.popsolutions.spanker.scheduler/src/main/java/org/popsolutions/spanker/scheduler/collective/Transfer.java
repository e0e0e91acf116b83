package org.popsolutions.spanker.scheduler.collective;

/**
 * One message of a schedule: elements [offset, offset + length) of card {@code source}'s working array go
 * to the same range of card {@code destination}'s, which either combines them with its own ({@code reduce})
 * or takes them as they are.
 */
public record Transfer(int source, int destination, int offset, int length, boolean reduce) {
}
