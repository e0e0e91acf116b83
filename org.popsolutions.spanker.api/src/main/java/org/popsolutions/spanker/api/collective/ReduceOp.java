package org.popsolutions.spanker.api.collective;

/** How AllReduce combines the cards' values element by element. */
public enum ReduceOp {
    SUM,
    MAX,
    MIN,
    /** The sum divided by the card count, in float32. */
    AVG
}
