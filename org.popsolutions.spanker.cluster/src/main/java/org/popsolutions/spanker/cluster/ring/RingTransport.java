package org.popsolutions.spanker.cluster.ring;

import java.util.List;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.cluster.wire.Message;

/** What a ring needs from its node: sending on the data plane and the membership view. */
public interface RingTransport {
    /** Sends a message to {@code target}; throws {@link java.io.UncheckedIOException} when it cannot. */
    void send(Coordinate target, Message message);

    /** Sends REG_DATA and waits until {@code target} has stored it; throws ClusterException when it does not. */
    void store(Coordinate target, Message.RegData data);

    /** Ships the code of {@code kernel} to {@code target} (REG_CODE); {@code false} when this node has none. */
    boolean shipCode(Coordinate target, String kernel);

    boolean isLive(Coordinate node);

    /** Why {@code node} is not live, naming its process, for error messages. */
    String describeDeath(Coordinate node);

    /** The live nodes with the same parent as {@code self}, itself excluded. */
    List<NodeInfo> peers(Coordinate self);

    /** The live children of {@code parent}. */
    List<Coordinate> liveChildren(Coordinate parent);
}
