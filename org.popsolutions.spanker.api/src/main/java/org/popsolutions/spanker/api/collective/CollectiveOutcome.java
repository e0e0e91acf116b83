package org.popsolutions.spanker.api.collective;

import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;

/**
 * What a collective produced and how it went.
 *
 * @param algorithm the algorithm that ran (never AUTO)
 * @param results per card: the allreduce/broadcast buffer (the request's own array), the allgather
 *        concatenation, or the reduce-scatter shard (card c gets elements [c·n/p, (c+1)·n/p) of the
 *        reduction, rounded down)
 * @param elapsedNanos wall time of the data movement, from the first send to the last card's completion
 * @param predicted the link model's estimate for the same run
 * @param traffic every link that carried bytes, local-major
 */
public record CollectiveOutcome(CollectiveAlgorithm algorithm, List<float[]> results, long elapsedNanos,
        CollectiveEstimate predicted, List<LinkTraffic> traffic) {
    public CollectiveOutcome {
        results = List.copyOf(results);
        traffic = List.copyOf(traffic);
    }
}
