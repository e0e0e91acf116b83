package org.popsolutions.spanker.api.card;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.topology.Topology;

/** Cards opened together, cabled to each other. Closing frees every buffer and stops the cards' work. */
@ProviderType
public interface CardGroup extends AutoCloseable {
    Topology topology();

    /** The cards in index order. */
    List<SailCard> cards();

    @Override
    void close();
}
