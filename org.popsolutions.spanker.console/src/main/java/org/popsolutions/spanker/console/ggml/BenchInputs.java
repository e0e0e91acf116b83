package org.popsolutions.spanker.console.ggml;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/** What the kernel benchmarks (bench-matvec, bench-matmul) check and build alike: the shape, random weights, vectors. */
final class BenchInputs {
    private BenchInputs() {
    }

    /** A rows×cols matrix of {@code type} run on {@code threads} threads, or a usage error saying which option. */
    static void checkShape(GgmlType type, int rows, int cols, int threads) {
        if (rows < 1 || cols < 1 || cols % type.blockSize() != 0) {
            throw new UsageException("--rows and --cols must be positive and --cols a multiple of " + type.blockSize()
                    + " for " + type.ggmlName());
        }
        if (threads < 1 || threads > 1024) {
            throw new UsageException("--threads must be 1..1024, got " + threads);
        }
    }

    /**
     * Gaussian rows quantized to {@code type}, in a heap buffer: the kernels read it in place, as they read a card's
     * placed shard (a direct or mapped buffer costs a copy per row; docs/performance.md).
     */
    static ByteBuffer randomMatrix(GgmlType type, int rows, int cols, SplittableRandom random) {
        ByteBuffer weights = ByteBuffer.allocate(Math.toIntExact(type.bytesFor((long) rows * cols)))
                .order(ByteOrder.LITTLE_ENDIAN);
        long rowBytes = type.bytesFor(cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) random.nextGaussian();
            }
            QuantFormats.of(type).quantize(row, 0, weights, (int) (r * rowBytes), cols);
        }
        return weights;
    }

    /** {@code n} Gaussian values. */
    static float[] gaussian(int n, SplittableRandom random) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
