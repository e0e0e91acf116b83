package org.popsolutions.spanker.api.compute;

import java.nio.ByteBuffer;
import org.osgi.annotation.versioning.ProviderType;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.OutputTooSmallException;

/**
 * OUT = A·Bᵀ for two int4-quantized operands sharing the inner dimension k (the original Spanker's Q4_K matmul
 * contract, SPEC §5). A holds m rows and B holds n rows of k values, each row {@code k / blockValues} blocks;
 * OUT receives m·n little-endian float32 values, row-major ({@code OUT[i·n + j] = Σ A[i][·]·B[j][·]}).
 * Operands are read from each buffer's position to its limit; OUT is written from its position.
 */
@ProviderType
public interface MatmulInt4 {
    /**
     * Checks in this order: k is 0 or not a multiple of the block size → {@link BadDimsException}; m, n or k
     * negative, or a size overflows → {@link BadDimsException}; A or B not exactly {@link #operandBytes} long →
     * {@link BadDimsException}; OUT shorter than m·n·4 bytes → {@link OutputTooSmallException} (have, need in
     * bytes). Then m = 0 or n = 0 is a no-op that touches nothing.
     */
    void matmul(Int4Format format, long m, long k, long n, ByteBuffer a, ByteBuffer b, ByteBuffer out);

    /**
     * The checks of {@link #matmul}, in the contract's order, for every implementation to share: throws the first
     * that fails, returns when the call may proceed (possibly as the m = 0 or n = 0 no-op).
     */
    static void checkArguments(Int4Format format, long m, long k, long n, ByteBuffer a, ByteBuffer b, ByteBuffer out) {
        if (k == 0 || k % format.blockValues() != 0) {
            throw new BadDimsException("k = " + k + " must be a positive multiple of " + format.blockValues() + " for "
                    + format.name());
        }
        long aBytes = operandBytes(format, m, k);
        long bBytes = operandBytes(format, n, k);
        long outBytes = outputBytes(m, n);
        if (k < 0 || aBytes < 0 || bBytes < 0 || outBytes < 0) {
            throw new BadDimsException("matmul " + m + "x" + k + "x" + n + " of " + format.name()
                    + ": negative dimension or size overflow");
        }
        if (a.remaining() != aBytes || b.remaining() != bBytes) {
            throw new BadDimsException("matmul " + m + "x" + k + "x" + n + " of " + format.name() + " needs A = "
                    + aBytes + " and B = " + bBytes + " bytes, got A = " + a.remaining() + " and B = " + b.remaining());
        }
        if (out.remaining() < outBytes) {
            throw new OutputTooSmallException(out.remaining(), outBytes);
        }
    }

    /** Bytes of an operand of {@code rows} rows of k values, or −1 when it overflows a long. */
    static long operandBytes(Int4Format format, long rows, long k) {
        long blocks = k / format.blockValues();
        if (rows < 0 || blocks < 0 || (rows != 0 && blocks > Long.MAX_VALUE / rows)) {
            return -1;
        }
        long total = rows * blocks;
        return total > Long.MAX_VALUE / format.blockBytes() ? -1 : total * format.blockBytes();
    }

    /** Bytes of the m×n float32 result, or −1 when it overflows a long. */
    static long outputBytes(long m, long n) {
        if (m < 0 || n < 0 || (m != 0 && n > Long.MAX_VALUE / 4 / m)) {
            return -1;
        }
        return m * n * 4;
    }
}
