package org.popsolutions.spanker.ggml.quant;

import java.nio.ByteBuffer;

/**
 * The finiteness of block formats whose values are a small integer times fp16 scales (plus an fp16 offset): a value
 * is NaN or infinite exactly when one of its block's scales is (a NaN or infinite scale spoils every value of the
 * block, as 0·∞ is NaN; finite fp16 scales times the formats' integers stay far below float's range).
 */
final class BlockScales {
    private BlockScales() {
    }

    /** The first value of the first block with a non-finite fp16 at one of {@code halfOffsets}, or -1. */
    static int firstNonFinite(GgmlType type, ByteBuffer src, int srcOffset, int count, int... halfOffsets) {
        QuantFormat.checkBlocks(type, count);
        for (int b = 0; b < count / type.blockSize(); b++) {
            int block = srcOffset + b * type.typeSize();
            for (int offset : halfOffsets) {
                if (!Half.isFinite(src.getShort(block + offset))) {
                    return b * type.blockSize();
                }
            }
        }
        return -1;
    }
}
