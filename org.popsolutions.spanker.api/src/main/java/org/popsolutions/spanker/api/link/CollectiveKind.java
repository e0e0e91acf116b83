package org.popsolutions.spanker.api.link;

import java.util.List;

/** The collectives the link model costs and the scheduler runs. */
public enum CollectiveKind {
    ALL_REDUCE("allreduce"),
    ALL_GATHER("allgather"),
    REDUCE_SCATTER("reducescatter"),
    BROADCAST("broadcast");

    private final String label;

    CollectiveKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /**
     * The algorithms that can run this collective, in the order ties are broken; {@link CollectiveAlgorithm#AUTO}
     * chooses among them and is not listed.
     */
    public List<CollectiveAlgorithm> algorithms() {
        return switch (this) {
            case ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER -> List.of(CollectiveAlgorithm.REFERENCE,
                    CollectiveAlgorithm.RING, CollectiveAlgorithm.RECURSIVE_DOUBLING,
                    CollectiveAlgorithm.HALVING_DOUBLING, CollectiveAlgorithm.DIRECT);
            case BROADCAST -> List.of(CollectiveAlgorithm.REFERENCE, CollectiveAlgorithm.RING,
                    CollectiveAlgorithm.BINOMIAL_TREE, CollectiveAlgorithm.DIRECT);
        };
    }

    /**
     * busbw / algbw as nccl-tests defines it: 2(p−1)/p for allreduce, (p−1)/p for allgather and
     * reduce-scatter, 1 for broadcast.
     */
    public double busBandwidthFactor(int cards) {
        if (cards <= 1) {
            return this == BROADCAST ? 1 : 0;
        }
        double p = cards;
        return switch (this) {
            case ALL_REDUCE -> 2 * (p - 1) / p;
            case ALL_GATHER, REDUCE_SCATTER -> (p - 1) / p;
            case BROADCAST -> 1;
        };
    }
}
