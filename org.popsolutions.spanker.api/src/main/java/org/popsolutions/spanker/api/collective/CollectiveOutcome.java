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
 * @param deviceNanos the collective's time on the cards' own clocks, as nccl-tests times on the device: the last
 *        card's finish less the first card's start (clocks aligned by each card's offset estimated when the host
 *        connected), or −1 when a card does not report its times
 * @param timeDilation how many times slower than the hardware the cards ran (emulated cards; 1 otherwise): both
 *        times above are in real nanoseconds, divide them by it to read rev-A's
 */
public record CollectiveOutcome(CollectiveAlgorithm algorithm, List<float[]> results, long elapsedNanos,
        CollectiveEstimate predicted, List<LinkTraffic> traffic, long deviceNanos, double timeDilation) {
    /** An outcome without device timing, on undilated cards. */
    public CollectiveOutcome(CollectiveAlgorithm algorithm, List<float[]> results, long elapsedNanos,
            CollectiveEstimate predicted, List<LinkTraffic> traffic) {
        this(algorithm, results, elapsedNanos, predicted, traffic, -1, 1);
    }

    public CollectiveOutcome {
        results = List.copyOf(results);
        traffic = List.copyOf(traffic);
    }
}
