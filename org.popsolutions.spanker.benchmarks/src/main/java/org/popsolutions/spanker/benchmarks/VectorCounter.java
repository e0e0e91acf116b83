package org.popsolutions.spanker.benchmarks;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Activation vectors multiplied per benchmark call, as a JMH secondary result ({@code vectors}, per second). */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class VectorCounter {
    public long vectors;

    @Setup(Level.Iteration)
    public void reset() {
        vectors = 0;
    }
}
