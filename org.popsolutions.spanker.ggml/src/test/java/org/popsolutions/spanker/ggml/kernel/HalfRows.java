package org.popsolutions.spanker.ggml.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.popsolutions.spanker.ggml.quant.BFloat16;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Half;

/**
 * Rows of F16 or BF16 weights for the tests of the row kernels (portable and native): Gaussian values, and on request
 * edge values (subnormals, the smallest normal, the largest finite F16 and BF16's 2^64, zeros of both signs) and an
 * infinity or NaN in every third row.
 */
public final class HalfRows {
    private HalfRows() {
    }

    /** {@code rows} rows of {@code cols} values, each {@code rowBytes} long (the bytes after a row's values zero). */
    public static byte[] random(GgmlType type, int rows, int cols, int rowBytes, float scale, boolean edgeValues,
            boolean nonFinite, SplittableRandom random) {
        short[] edges = type == GgmlType.F16
                ? new short[] {0x0001, (short) 0x8001, 0x03ff, 0x0400, 0x7bff, (short) 0xfbff, 0, (short) 0x8000}
                : new short[] {0x0001, (short) 0x8001, 0x007f, 0x0080, 0x5f80, (short) 0xdf80, 0, (short) 0x8000};
        short inf = type == GgmlType.F16 ? (short) 0x7c00 : (short) 0x7f80;
        short nan = type == GgmlType.F16 ? (short) 0x7e00 : (short) 0x7fc0;
        byte[] bytes = new byte[rows * rowBytes];
        ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = (float) (random.nextGaussian() * scale);
                short h = type == GgmlType.F16 ? Half.fromFloat(v) : BFloat16.fromFloat(v);
                if (edgeValues && random.nextInt(8) == 0) {
                    h = edges[random.nextInt(edges.length)];
                }
                view.putShort(r * rowBytes + 2 * c, h);
            }
            if (nonFinite && r % 3 == 1) {
                view.putShort(r * rowBytes + 2 * random.nextInt(cols), random.nextBoolean() ? inf : nan);
            }
        }
        return bytes;
    }
}
