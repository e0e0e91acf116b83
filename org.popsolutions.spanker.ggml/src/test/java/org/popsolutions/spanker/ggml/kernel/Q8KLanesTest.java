package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Golden;
import org.popsolutions.spanker.ggml.quant.Q8_KFormat;

/**
 * The prepared activations' Q8_K quantizer (256-bit lanes where the portable kernels are the Vector API ones)
 * writes {@link Q8_KFormat#quantize}'s bytes: on random blocks and on the ones whose largest magnitude is tied (in
 * one group of eight lanes or two) with either sign first, all zero, NaN, infinite, subnormal, or so small that the
 * inverse scale overflows. Taking the last of a tie instead of the first fails it (checked).
 */
class Q8KLanesTest {
    private static final int BLOCK = Q8_KFormat.BLOCK;

    @Test
    void lanesUseTheIncubatorModuleWhereThePortableKernelsDo() {
        assertEquals(Kernels.portable().name().equals("vector-256") ? "VectorQ8KLanes" : "Plain",
                Q8KLanes.BEST.getClass().getSimpleName());
    }

    @Test
    void writesTheFormatsBytesOnRandomAndEdgeBlocks() {
        SplittableRandom random = new SplittableRandom(12);
        float[][] blocks = new float[40][];
        for (int k = 0; k < blocks.length; k++) {
            float[] x = new float[BLOCK];
            double scale = Math.pow(10, random.nextInt(-6, 4)); // values below the ties' 1e5 set next
            for (int i = 0; i < BLOCK; i++) {
                x[i] = (float) (random.nextGaussian() * scale);
            }
            blocks[k] = x;
        }
        // the largest magnitude twice, the later one of the other sign: the first one is the scale's sign
        blocks[0][3] = -1e5f;
        blocks[0][200] = 1e5f;
        blocks[1][7] = 1e5f;
        blocks[1][9] = -1e5f;
        blocks[12][1] = 1e5f; // and twice in one group of eight lanes
        blocks[12][6] = -1e5f;
        // the largest magnitude in the last lane of a block
        blocks[2][BLOCK - 1] = 1e5f;
        java.util.Arrays.fill(blocks[3], 0f);
        java.util.Arrays.fill(blocks[4], -0f);
        blocks[5][17] = Float.NaN;
        blocks[6][30] = Float.NEGATIVE_INFINITY;
        blocks[7][31] = Float.POSITIVE_INFINITY;
        blocks[7][32] = Float.NaN;
        for (int i = 0; i < BLOCK; i++) {
            blocks[8][i] = Float.MIN_VALUE * (i % 5 - 2); // subnormal: -127 / max overflows to infinity
            blocks[9][i] = 0x1p-120f * (i % 9 - 4);
            blocks[10][i] = (i % 3 - 1) * 2.5f; // scales where x * iscale lands on halves
        }
        blocks[10][0] = 127f;
        blocks[11][100] = Float.NaN; // a NaN before the largest value
        blocks[11][101] = 1e6f;
        float[] x = new float[blocks.length * BLOCK + 5];
        for (int k = 0; k < blocks.length; k++) {
            System.arraycopy(blocks[k], 0, x, 5 + k * BLOCK, BLOCK);
        }
        byte[] expected = new byte[blocks.length * Q8_KFormat.BYTES];
        new Q8_KFormat().quantize(x, 5, le(expected), 0, blocks.length * BLOCK);
        byte[] actual = new byte[expected.length];
        Q8KLanes.BEST.quantize(x, 5, le(actual), blocks.length * BLOCK);
        for (int k = 0; k < blocks.length; k++) {
            byte[] e = java.util.Arrays.copyOfRange(expected, k * Q8_KFormat.BYTES, (k + 1) * Q8_KFormat.BYTES);
            byte[] a = java.util.Arrays.copyOfRange(actual, k * Q8_KFormat.BYTES, (k + 1) * Q8_KFormat.BYTES);
            assertArrayEquals(e, a, "block " + k);
        }
    }

    @Test
    void preparedActivationsGiveGgmlsGoldenBytes() {
        float[] a = Golden.floats("a256.f32");
        PreparedActivation prepared = PreparedActivation.prepare(GgmlType.Q4_K, DotMode.GGML, a);
        assertArrayEquals(Golden.bytes("a256.act.q8_K.cpu.bin"), prepared.quantized());
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }
}
