package org.popsolutions.spanker.api.collective;

import java.util.List;
import java.util.Objects;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.topology.Topology;

/**
 * One collective to run over the links of a topology.
 *
 * @param reduceOp how values combine (ignored by allgather and broadcast)
 * @param buffers one buffer per card in topology order; allreduce and broadcast write their result into them
 * @param algorithm how to run it; {@link CollectiveAlgorithm#AUTO} lets the link model choose
 * @param root the source card of a broadcast
 * @param shaped whether the links (and the cards' reduce units) are held to the link model's rates and
 *        latencies, so that measured times are comparable with predicted ones
 */
public record CollectiveRequest(CollectiveKind kind, ReduceOp reduceOp, Topology topology, List<float[]> buffers,
        CollectiveAlgorithm algorithm, int root, boolean shaped) {
    public CollectiveRequest {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reduceOp, "reduceOp");
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(buffers, "buffers");
        Objects.requireNonNull(algorithm, "algorithm");
    }

    public static CollectiveRequest of(CollectiveKind kind, ReduceOp op, Topology topology, List<float[]> buffers,
            CollectiveAlgorithm algorithm) {
        return new CollectiveRequest(kind, op, topology, buffers, algorithm, 0, false);
    }
}
