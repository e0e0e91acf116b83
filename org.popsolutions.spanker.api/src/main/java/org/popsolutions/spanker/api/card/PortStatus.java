package org.popsolutions.spanker.api.card;

import java.util.Objects;
import org.popsolutions.spanker.api.topology.LinkState;

/** A port's training state right now; data moves through it only while {@link LinkState#UP}. */
public record PortStatus(int port, LinkState state) {
    public PortStatus {
        Objects.requireNonNull(state, "state");
    }
}
