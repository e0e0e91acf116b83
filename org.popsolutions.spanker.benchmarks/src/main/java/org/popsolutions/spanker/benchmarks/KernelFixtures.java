package org.popsolutions.spanker.benchmarks;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;
import org.popsolutions.spanker.kernels.avx2.NativeLibrary;

/** What the kernel benchmarks share: a quantized matrix to stream, and the provider named by a parameter. */
final class KernelFixtures {
    private KernelFixtures() {
    }

    /**
     * A rows×cols matrix of Gaussian values in {@code type}: 64 distinct quantized rows, repeated. The kernels'
     * speed does not depend on the values, and quantizing all of a 4096×14336 matrix would take longer than the
     * measurement.
     */
    static byte[] tiledMatrix(GgmlType type, int rows, int cols, SplittableRandom random) {
        long rowBytes = type.bytesFor(cols);
        byte[] matrix = new byte[Math.toIntExact(rowBytes * rows)];
        ByteBuffer view = ByteBuffer.wrap(matrix).order(ByteOrder.LITTLE_ENDIAN);
        int distinct = Math.min(rows, 64);
        float[] row = new float[cols];
        for (int r = 0; r < distinct; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) random.nextGaussian();
            }
            QuantFormats.of(type).quantize(row, 0, view, (int) (r * rowBytes), cols);
        }
        for (int r = distinct; r < rows; r++) {
            System.arraycopy(matrix, (int) ((r % distinct) * rowBytes), matrix, (int) (r * rowBytes), (int) rowBytes);
        }
        return matrix;
    }

    /** java: the portable Vector API kernels (refused if they fell back to scalar); native: the AVX2 JNI kernels. */
    static Kernels provider(String name) {
        return switch (name) {
            case "java" -> {
                Kernels portable = Kernels.portable();
                if (!portable.name().startsWith("vector")) {
                    throw new IllegalStateException("the Vector API kernels are not in use: " + portable.name());
                }
                yield portable;
            }
            case "native" -> NativeLibrary.load().orElseThrow(() -> new IllegalStateException(
                    "native kernels unavailable: " + NativeLibrary.unavailableReason().orElse("?")));
            default -> throw new IllegalArgumentException("provider is java or native, got " + name);
        };
    }
}
