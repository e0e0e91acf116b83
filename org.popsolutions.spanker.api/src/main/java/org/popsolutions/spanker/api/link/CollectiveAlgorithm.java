package org.popsolutions.spanker.api.link;

/**
 * How a collective is carried out over the links. {@link #AUTO} asks the link model for the cheapest one.
 */
public enum CollectiveAlgorithm {
    /** The original: everything to card 0, fold in card order, result back to every card. */
    REFERENCE("reference"),
    /** Reduce-scatter then allgather around the ring, one neighbour hop per step. */
    RING("ring"),
    /** Recursive doubling for allreduce/allgather (whole vectors, lg p steps); halving for reduce-scatter. */
    RECURSIVE_DOUBLING("rd"),
    /** Rabenseifner: reduce-scatter by recursive halving, then allgather by recursive doubling. */
    HALVING_DOUBLING("hd"),
    /** Every card exchanges its shard with every other card at once; one hop on a mesh. */
    DIRECT("direct"),
    /** Binomial tree from the root (broadcast). */
    BINOMIAL_TREE("tree"),
    /** Cheapest by the link model for the size and topology. */
    AUTO("auto");

    private final String label;

    CollectiveAlgorithm(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static CollectiveAlgorithm fromLabel(String text) {
        for (CollectiveAlgorithm algorithm : values()) {
            if (algorithm.label.equalsIgnoreCase(text.trim()) || algorithm.name().equalsIgnoreCase(text.trim())) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException("unknown collective algorithm '" + text + "'");
    }
}
