package org.popsolutions.spanker.api.plan;

/**
 * One card's share of a layer: the key/value heads [kvHeadStart, kvHeadEnd) with their query heads, and the
 * feed-forward rows [feedForwardStart, feedForwardEnd). A pipeline layer gives its single card every head and
 * every row.
 */
public record CardShard(int card, int kvHeadStart, int kvHeadEnd, int feedForwardStart, int feedForwardEnd) {
    public boolean hasAttention() {
        return kvHeadEnd > kvHeadStart;
    }

    public boolean hasFeedForward() {
        return feedForwardEnd > feedForwardStart;
    }
}
