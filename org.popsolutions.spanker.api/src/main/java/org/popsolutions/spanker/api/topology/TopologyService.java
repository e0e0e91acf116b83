package org.popsolutions.spanker.api.topology;

import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.NoSailsException;

/**
 * The topology assembled from the cards registered right now. Its service properties
 * ({@value #CARD_COUNT}, {@value #KIND}, {@value #GENERATION}) are updated on every change, so consumers
 * can filter on them and be told when cards come and go.
 */
@ProviderType
public interface TopologyService {
    String CARD_COUNT = "spanker.topology.cards";
    String KIND = "spanker.topology.kind";
    String GENERATION = "spanker.topology.generation";

    /**
     * @throws NoSailsException when no card is registered
     */
    Topology current();
}
