package org.popsolutions.spanker.api.compute;

/**
 * A 4-bit ggml block format {@link MatmulInt4} accepts: {@code blockValues} values per block stored in
 * {@code blockBytes} bytes, ggml's layout (SPEC §7).
 */
public record Int4Format(String name, int blockValues, int blockBytes) {
    /** fp16 d, 16 bytes of nibbles; x = (q − 8)·d. The format the planned Xpop_matmul fuses. */
    public static final Int4Format Q4_0 = new Int4Format("Q4_0", 32, 18);
    /** fp16 d, fp16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles, per 256 values. */
    public static final Int4Format Q4_K = new Int4Format("Q4_K", 256, 144);

    public Int4Format {
        if (blockValues <= 0 || blockBytes <= 0) {
            throw new IllegalArgumentException("block sizes must be positive");
        }
    }
}
