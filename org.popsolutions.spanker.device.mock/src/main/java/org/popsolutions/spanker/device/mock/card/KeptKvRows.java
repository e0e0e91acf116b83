package org.popsolutions.spanker.device.mock.card;

import org.popsolutions.spanker.ggml.ops.CardOps;

/**
 * One attention op's kv heads' cache rows kept copied from decode step to decode step (see MockProgram's
 * AttentionRows), held by the card for the key cache's buffer and counted in the card's memory like a packed copy of
 * weights: freed with the buffer, dropped (with the packed copies) when a buffer asked for needs the room. Sized once,
 * at its first use, to every row the cache has, so no decode position allocates. Shared by the programs that run the
 * same attention (a recompiled program finds it again); the versions say whether it still holds the caches' rows.
 */
final class KeptKvRows {
    final long keyOffset;
    final long keyBytes;
    final MockRegion values;
    final long valueOffset;
    final int kvHeads;
    final int headDimension;
    /** The cache rows each kv head's copy has room for: all of the cache's. */
    final int rows;
    /** Per kv head, its cache rows [0, filled) copied in {@link CardOps#copyKvHeadRows}'s layout. */
    final float[][] heads;
    /** The bytes the card counts for the copy. */
    final long bytes;
    /** Set by the card when it takes the room back; whoever holds it asks the card again. */
    volatile boolean dropped;
    int filled;
    /** The caches' versions the last completed run left (−1: the copy holds nothing yet, or a run failed part way). */
    int keysVersion = -1;
    int valuesVersion = -1;

    KeptKvRows(long keyOffset, long keyBytes, MockRegion values, long valueOffset, int kvHeads, int headDimension,
            int rows) {
        this.keyOffset = keyOffset;
        this.keyBytes = keyBytes;
        this.values = values;
        this.valueOffset = valueOffset;
        this.kvHeads = kvHeads;
        this.headDimension = headDimension;
        this.rows = rows;
        this.heads = new float[kvHeads][];
        for (int g = 0; g < kvHeads; g++) {
            heads[g] = new float[CardOps.kvHeadRowsLength(headDimension, rows)];
        }
        this.bytes = bytesFor(kvHeads, headDimension, rows);
    }

    static long bytesFor(int kvHeads, int headDimension, int rows) {
        return (long) kvHeads * CardOps.kvHeadRowsLength(headDimension, rows) * Float.BYTES;
    }

    boolean matches(long keyOffset, long keyBytes, MockRegion values, long valueOffset, int kvHeads,
            int headDimension, int rows) {
        return this.keyOffset == keyOffset && this.keyBytes == keyBytes && this.values == values
                && this.valueOffset == valueOffset && this.kvHeads == kvHeads && this.headDimension == headDimension
                && this.rows == rows;
    }
}
