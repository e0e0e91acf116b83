package org.popsolutions.spanker.api.collective;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.topology.Topology;

/** Collective operations over one contiguous float buffer per card, in topology card order. */
@ProviderType
public interface Collectives {

    /**
     * Combines the buffers element-wise and writes the result into every card's buffer.
     *
     * @throws TopologyMismatchException when the buffer count differs from the card count (checked first)
     * @throws ShapeMismatchException naming the first card whose buffer length differs from card 0's
     */
    void allReduce(Topology topology, ReduceOp op, List<float[]> perCardBuffers);

    /**
     * Concatenates the cards' buffers in topology order.
     *
     * @throws TopologyMismatchException when the buffer count differs from the card count (checked first)
     * @throws ShapeMismatchException naming the first card whose buffer length differs from card 0's
     */
    float[] allGather(Topology topology, List<float[]> perCardBuffers);
}
