package org.popsolutions.spanker.api.collective;

import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;

/**
 * Runs collectives card to card over the topology's links with a chosen (or cheapest) algorithm. The
 * {@code reference} algorithm gives the original's results bit for bit; Max and Min are bit-identical to
 * the reference under every algorithm; Sum and Avg differ only by the summation order the algorithm
 * documents.
 */
@ProviderType
public interface CollectiveEngine {
    /**
     * @throws TopologyMismatchException when the buffer count differs from the card count (checked first)
     * @throws ShapeMismatchException naming the first card whose buffer length differs from card 0's
     * @throws DeviceException naming a link the algorithm needs that is not UP; no buffer is touched
     * @throws IllegalArgumentException when the algorithm cannot run that collective
     */
    CollectiveOutcome run(CollectiveRequest request);
}
