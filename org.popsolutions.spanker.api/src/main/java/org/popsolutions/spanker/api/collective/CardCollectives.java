package org.popsolutions.spanker.api.collective;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.Slice;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;

/**
 * Collectives as card-side programs: the send, receive, forward and reduce ops each card runs, over data already in
 * its buffers, so a caller can splice a collective into the programs it runs anyway (a tensor-parallel block's
 * AllReduce inside a token's decode program). The semantics are {@link CollectiveEngine}'s.
 */
@ProviderType
public interface CardCollectives {
    /**
     * The ops of an AllReduce of {@code data.get(c)} (float32 values, the same count on every card) over every card
     * of {@code group}; the result replaces each card's data. Append {@code opsPerCard().get(c)} to card c's program
     * at the same point of every card's sequence of link operations; free the returned scratch buffers when the
     * programs are no longer needed.
     *
     * @throws org.popsolutions.spanker.api.DeviceException naming a link the algorithm needs that is not UP
     */
    CollectiveProgram allReduce(CardGroup group, ReduceOp op, CollectiveAlgorithm algorithm, List<Slice> data);
}
