package org.popsolutions.spanker.benchmarks;

import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;

/**
 * The machine's DRAM read bandwidth as a Java program sees it: a streaming sum over a 1 GiB heap byte array
 * (256-bit loads, the same kind the matvec kernels use), split across the threads like the matvec rows. The heap is
 * on transparent huge pages: a card's weights may be on 2 MiB pages (glibc's hugetlb tunable, which a user can set
 * for the launcher), where streaming runs a few per cent faster than on 4 KiB pages in this benchmark.
 * <p>
 * Not the machine's DRAM ceiling: it read 26–47 GB/s where the native F16/BF16 kernels stream 58 GB/s (session 13), so
 * the tables divide by the native streaming read of {@code src/main/c/dram_read.c} and show this sum beside it, as
 * what a Java loop streams.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g",
        "-XX:+UseTransparentHugePages"})
public class DramBandwidthBenchmark {
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final int CHUNK = 1 << 20;

    @Param({"1", "2"})
    public int threads;

    @Param("1073741824")
    public int bytes;

    private byte[] data;
    private long[] partial;
    private RowExecutor executor;

    @Setup(Level.Trial)
    public void setUp() {
        data = new byte[bytes - bytes % CHUNK];
        for (int i = 0; i < data.length; i += 4096) {
            data[i] = (byte) i; // touch every page
        }
        partial = new long[data.length / CHUNK];
        executor = new RowExecutor(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        executor.close();
    }

    @Benchmark
    public long streamingSum(ByteCounter counter) {
        executor.forRows(partial.length, (from, to) -> {
            for (int chunk = from; chunk < to; chunk++) {
                partial[chunk] = sum(data, chunk * CHUNK, CHUNK);
            }
        });
        counter.bytes += data.length;
        long total = 0;
        for (long p : partial) {
            total += p;
        }
        return total;
    }

    private static long sum(byte[] a, int from, int length) {
        LongVector acc0 = LongVector.zero(LongVector.SPECIES_256);
        LongVector acc1 = LongVector.zero(LongVector.SPECIES_256);
        for (int i = from; i < from + length; i += 64) {
            acc0 = acc0.add(ByteVector.fromArray(B, a, i).reinterpretAsLongs());
            acc1 = acc1.add(ByteVector.fromArray(B, a, i + 32).reinterpretAsLongs());
        }
        return acc0.add(acc1).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
