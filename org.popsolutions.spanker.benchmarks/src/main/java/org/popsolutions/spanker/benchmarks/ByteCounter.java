package org.popsolutions.spanker.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Bytes moved per benchmark call, as a JMH secondary result: in throughput mode with seconds as the time unit
 * JMH prints {@code bytes} in "ops/s", which is bytes per second (report.py turns it into GB/s).
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class ByteCounter {
    public long bytes;

    /**
     * CPU time of the benchmark thread (for one-thread runs, all of the product's work), nanoseconds per second of
     * wall time: divided by the calls per second it gives CPU time per call, which another process on the same
     * core does not inflate the way it inflates wall time.
     */
    public long cpuNanos;

    @Setup(Level.Iteration)
    public void reset() {
        bytes = 0;
        cpuNanos = 0;
    }
}
