package org.popsolutions.spanker.api.collective;

import java.util.List;
import org.popsolutions.spanker.api.card.CardBuffer;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;

/**
 * A collective's ops, card by card.
 *
 * @param algorithm the algorithm they implement (AUTO resolved)
 * @param opsPerCard each card's ops, in card order
 * @param scratch buffers allocated on the cards for staging; the caller frees them
 */
public record CollectiveProgram(CollectiveAlgorithm algorithm, List<List<Op>> opsPerCard, List<CardBuffer> scratch) {
    public CollectiveProgram {
        opsPerCard = opsPerCard.stream().map(List::copyOf).toList();
        scratch = List.copyOf(scratch);
    }
}
