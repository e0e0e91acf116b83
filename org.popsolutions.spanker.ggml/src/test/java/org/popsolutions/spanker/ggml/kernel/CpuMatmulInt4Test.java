package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.OutputTooSmallException;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/** The original MatmulInt4 contract (SPEC §5): sizes, error order, no-ops, and the numbers. */
class CpuMatmulInt4Test {
    private final MatmulInt4 matmul = new CpuMatmulInt4(Kernels.best(), 2);

    @Test
    void computesABTransposedForBothFormats() {
        for (Int4Format format : new Int4Format[] {Int4Format.Q4_K, Int4Format.Q4_0}) {
            GgmlType type = CpuMatmulInt4.typeOf(format);
            int m = 3;
            int n = 5;
            int k = 512;
            SplittableRandom r = new SplittableRandom(9);
            byte[] a = QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(r, m * k, 1));
            byte[] b = QuantFormats.of(type).quantize(KernelAgreementTest.randomVector(r, n * k, 1));
            ByteBuffer out = ByteBuffer.allocate(m * n * 4).order(ByteOrder.LITTLE_ENDIAN);
            matmul.matmul(format, m, k, n, ByteBuffer.wrap(a), ByteBuffer.wrap(b), out);
            float[] da = QuantFormats.of(type).dequantize(a);
            float[] db = QuantFormats.of(type).dequantize(b);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    double l1 = 0;
                    for (int c = 0; c < k; c++) {
                        expected += (double) da[i * k + c] * db[j * k + c];
                        l1 += Math.abs((double) da[i * k + c] * db[j * k + c]);
                    }
                    float got = out.getFloat((i * n + j) * 4);
                    assertTrue(Math.abs(got - expected) <= 1e-5 * l1, format + " [" + i + "][" + j + "] " + got
                            + " vs " + expected);
                }
            }
        }
    }

    @Test
    void sizesFollowTheOriginal() {
        assertEquals(2L * 4 * 144, MatmulInt4.operandBytes(Int4Format.Q4_K, 2, 1024));
        assertEquals(-1, MatmulInt4.operandBytes(Int4Format.Q4_K, Long.MAX_VALUE, 1L << 40));
        assertEquals(24, MatmulInt4.outputBytes(2, 3));
    }

    @Test
    void badKComesFirst() {
        // k not a multiple of 256, although OUT is also too small and A/B mismatched: BadDims about k wins
        BadDimsException e = assertThrows(BadDimsException.class, () -> matmul.matmul(Int4Format.Q4_K, 1, 100, 1,
                ByteBuffer.allocate(3), ByteBuffer.allocate(5), ByteBuffer.allocate(0)));
        assertTrue(e.getMessage().contains("k = 100"), e.getMessage());
        assertThrows(BadDimsException.class, () -> matmul.matmul(Int4Format.Q4_K, 1, 0, 1, ByteBuffer.allocate(0),
                ByteBuffer.allocate(0), ByteBuffer.allocate(4)));
    }

    @Test
    void overflowIsBadDims() {
        assertThrows(BadDimsException.class, () -> matmul.matmul(Int4Format.Q4_K, Long.MAX_VALUE / 2, 256,
                Long.MAX_VALUE / 2, ByteBuffer.allocate(0), ByteBuffer.allocate(0), ByteBuffer.allocate(0)));
    }

    @Test
    void operandMismatchBeforeOutputTooSmall() {
        assertThrows(BadDimsException.class, () -> matmul.matmul(Int4Format.Q4_K, 1, 256, 1, ByteBuffer.allocate(144),
                ByteBuffer.allocate(143), ByteBuffer.allocate(0)));
        OutputTooSmallException e = assertThrows(OutputTooSmallException.class, () -> matmul.matmul(Int4Format.Q4_K,
                2, 256, 3, ByteBuffer.allocate(288), ByteBuffer.allocate(432), ByteBuffer.allocate(23)));
        assertEquals(23, e.have());
        assertEquals(24, e.need());
    }

    @Test
    void zeroMOrNIsANoOpThatTouchesNothing() {
        ByteBuffer out = ByteBuffer.allocate(8);
        out.putFloat(0, 42f);
        matmul.matmul(Int4Format.Q4_0, 0, 32, 2, ByteBuffer.allocate(0), ByteBuffer.allocate(36), out);
        matmul.matmul(Int4Format.Q4_0, 2, 32, 0, ByteBuffer.allocate(36), ByteBuffer.allocate(0), out);
        assertEquals(42f, out.getFloat(0));
        assertEquals(0, out.position());
    }
}
