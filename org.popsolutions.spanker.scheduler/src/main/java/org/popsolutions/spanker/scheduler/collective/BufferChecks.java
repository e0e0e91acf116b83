package org.popsolutions.spanker.scheduler.collective;

import java.util.List;
import java.util.Objects;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.topology.Topology;

/** The original's argument checks, in its order: buffer count first, then each length against card 0's. */
public final class BufferChecks {
    private BufferChecks() {
    }

    /** Returns the common buffer length. */
    public static int checkShapes(Topology topology, List<float[]> perCardBuffers) {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(perCardBuffers, "perCardBuffers");
        if (perCardBuffers.size() != topology.cardCount()) {
            throw new TopologyMismatchException(topology.cardCount(), perCardBuffers.size());
        }
        if (perCardBuffers.isEmpty()) {
            return 0;
        }
        int length = Objects.requireNonNull(perCardBuffers.get(0), "buffer of card 0").length;
        for (int card = 1; card < perCardBuffers.size(); card++) {
            float[] buffer = Objects.requireNonNull(perCardBuffers.get(card), "buffer of card " + card);
            if (buffer.length != length) {
                throw new ShapeMismatchException(card, length, buffer.length);
            }
        }
        return length;
    }
}
