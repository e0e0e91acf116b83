package org.popsolutions.spanker.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** One thread's System.arraycopy of a 64 MiB float array: bytes copied per second (the collectives' baseline). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class MemcpyBenchmark {
    @Param("67108864")
    public int bytes;

    private float[] source;
    private float[] target;

    @Setup(Level.Trial)
    public void setUp() {
        source = new float[bytes / Float.BYTES];
        target = new float[bytes / Float.BYTES];
        java.util.Arrays.fill(source, 1f);
        java.util.Arrays.fill(target, 2f);
    }

    @Benchmark
    public float arraycopy(ByteCounter counter) {
        System.arraycopy(source, 0, target, 0, source.length);
        counter.bytes += (long) source.length * Float.BYTES;
        return target[target.length - 1];
    }
}
