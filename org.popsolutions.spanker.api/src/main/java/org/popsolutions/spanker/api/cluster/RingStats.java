package org.popsolutions.spanker.api.cluster;

/**
 * Counters of one orchestrator's rings.
 *
 * @param ringWaits submissions that found the task ring full and waited for retirement
 * @param heapWaits allocations that found the heap ring full and waited
 * @param poolWaits dependency edges that found the dependency pool full and waited
 * @param tensorMapWaits tensors that found the tensor map full and waited
 */
public record RingStats(long submitted, long retired, long failed, long rerun, long ringWaits, long heapWaits,
        long poolWaits, long tensorMapWaits, int inFlight, long heapUsed, int poolUsed, int liveTensors) {
}
