package org.popsolutions.spanker.benchmarks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * One rows×cols matrix-vector product per call in ggml mode (as llama.cpp's decode), GB/s of weights streamed,
 * with the portable Java kernels or the native ones.
 * Enough copies of the matrix to exceed the last-level cache four times over are used in turn, so every call
 * reads its weights from DRAM, as in decode; the RowExecutor's threads split the rows.
 * With {@code -Dspanker.bench.rounds=DIR} each measurement iteration waits for kernels-vs-ggml.sh's go ({@link Rounds}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms3g", "-Xmx3g"})
public class MatVecBenchmark {
    private static final long LAST_LEVEL_CACHE = 32L << 20;
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    @Param({"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q6_K", "F16", "BF16", "F32"})
    public String type;

    /** java: the portable Vector API kernels; native: the AVX2 JNI kernels (kernels.native bundle). */
    @Param({"java", "native"})
    public String provider;

    @Param({"1", "2"})
    public int threads;

    @Param("4096")
    public int rows;

    @Param("4096")
    public int cols;

    /** heap: weights in heap byte arrays, read in place; direct: off-heap (as a memory mapping), row copies. */
    @Param("heap")
    public String storage;

    /**
     * ggml: the kernels read ggml's blocks; packed: the weights are repacked once at set-up for the portable kernels
     * ({@code PackedWeights}: Q4_0, Q4_1, Q8_0, Q4_K, Q6_K), as at model load; types without a packed layout, the native
     * provider and the float mode read the ggml bytes either way.
     */
    @Param("ggml")
    public String layout;

    private GgmlType weightType;
    private PackedWeights[] packed;
    private ByteBuffer[] matrices;
    private long matrixBytes;
    private float[] x;
    private float[] out;
    private RowExecutor executor;
    private MatVec matVec;
    private int next;
    private final Rounds rounds = Rounds.fromProperty();

    @Setup(Level.Trial)
    public void setUp() {
        weightType = GgmlType.valueOf(type);
        matrixBytes = weightType.bytesFor((long) rows * cols);
        SplittableRandom random = new SplittableRandom(42);
        byte[] first = KernelFixtures.tiledMatrix(weightType, rows, cols, random);
        int copies = (int) Math.max(2, Math.min(64, (4 * LAST_LEVEL_CACHE + matrixBytes - 1) / matrixBytes));
        matrices = new ByteBuffer[copies];
        for (int i = 0; i < copies; i++) {
            matrices[i] = storage.equals("direct")
                    ? ByteBuffer.allocateDirect(first.length).order(ByteOrder.LITTLE_ENDIAN).put(0, first)
                    : ByteBuffer.wrap(first.clone()).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (layout.equals("packed")) {
            packed = new PackedWeights[copies];
            for (int i = 0; i < copies; i++) {
                packed[i] = PackedWeights.pack(weightType, matrices[i], rows, cols).orElse(null);
            }
        }
        x = new float[cols];
        for (int c = 0; c < cols; c++) {
            x[c] = (float) random.nextGaussian();
        }
        out = new float[rows];
        executor = new RowExecutor(threads);
        Kernels kernels = KernelFixtures.provider(provider);
        matVec = new MatVec(kernels, executor);
    }

    @Setup(Level.Iteration)
    public void awaitRound(IterationParams iteration) throws IOException {
        if (rounds != null && iteration.getType() == IterationType.MEASUREMENT) {
            rounds.await();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        executor.close();
    }

    @Benchmark
    public float matvec(ByteCounter counter) {
        int which = next;
        next = next + 1 == matrices.length ? 0 : next + 1;
        long cpu = CPU.getCurrentThreadCpuTime();
        if (packed != null && packed[which] != null) {
            matVec.matvec(packed[which], x, out, DotMode.GGML);
        } else {
            matVec.matvec(weightType, matrices[which], rows, cols, x, out, DotMode.GGML);
        }
        counter.cpuNanos += CPU.getCurrentThreadCpuTime() - cpu;
        counter.bytes += matrixBytes;
        return out[rows - 1];
    }
}
