package org.popsolutions.spanker.benchmarks;

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
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.kernel.MatVec;
import org.popsolutions.spanker.ggml.kernel.RowExecutor;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Prompt processing's product: {@code batch} activation vectors against one rows×cols matrix per call, in one pass
 * over the weights ({@link MatVec.Product}, as a card program's MatMul runs it); the {@code vectors} secondary result
 * counts vectors per second, to set beside {@link MatVecBenchmark}'s products per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms2g", "-Xmx2g"})
public class MatMulBenchmark {
    @Param({"Q4_0", "Q8_0", "Q4_K", "Q4_1", "Q6_K"})
    public String type;

    @Param({"java", "native"})
    public String provider;

    @Param({"1", "8", "32"})
    public int batch;

    @Param("1")
    public int threads;

    @Param("4096")
    public int rows;

    @Param("4096")
    public int cols;

    private GgmlType weightType;
    private ByteBuffer weights;
    private float[] x;
    private float[] out;
    private RowExecutor executor;
    private MatVec.Product product;

    @Setup(Level.Trial)
    public void setUp() {
        weightType = GgmlType.valueOf(type);
        SplittableRandom random = new SplittableRandom(7);
        weights = ByteBuffer.wrap(KernelFixtures.tiledMatrix(weightType, rows, cols, random))
                .order(ByteOrder.LITTLE_ENDIAN);
        x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        out = new float[batch * rows];
        executor = new RowExecutor(threads);
        Kernels kernels = KernelFixtures.provider(provider);
        // the product a card program's MatMul runs: the prompt's vectors through Kernels.dotRowsBatch
        product = new MatVec(kernels, executor).product(weightType, rows, cols, batch, DotMode.GGML);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        executor.close();
    }

    @Benchmark
    public float matmul(VectorCounter counter) {
        product.run(weights, x, 0, batch, out, 0);
        counter.vectors += batch;
        return out[batch * rows - 1];
    }
}
