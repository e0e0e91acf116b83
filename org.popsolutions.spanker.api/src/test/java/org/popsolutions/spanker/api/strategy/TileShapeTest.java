package org.popsolutions.spanker.api.strategy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class TileShapeTest {

    @Test
    void byteCountsAreProductsOfTheDimensions() {
        TileShape tile = new TileShape(1, 5632, 2048, 2);
        assertEquals(4096, tile.weightBytes());
        assertEquals(11264, tile.activationBytes());
    }

    @Test
    void productsSaturateAtTheUnsigned64BitMaximum() {
        long max = -1L; // 2^64 - 1
        assertEquals(max, new TileShape(max, max, max, max).weightBytes());
        assertEquals(max, new TileShape(1L << 32, 1, 1L << 32, 1).weightBytes());
        assertEquals(max, TileShape.saturatingMultiply(1L << 63, 2));
    }

    @Test
    void productsBelowTwoToTheSixtyFourAreExactEvenAboveTheSignedRange() {
        assertEquals(1L << 63, TileShape.saturatingMultiply(1L << 62, 2));
        assertEquals(0xFFFF_FFFE_0000_0001L, TileShape.saturatingMultiply(0xFFFF_FFFFL, 0xFFFF_FFFFL));
        assertEquals(0, TileShape.saturatingMultiply(-1L, 0));
    }

    @Test
    void unsignedConversionRoundsToNearest() {
        assertEquals(0x1p64, TileShape.unsignedToDouble(-1L));
        assertEquals(0x1p63, TileShape.unsignedToDouble(Long.MIN_VALUE));
        assertEquals(12345.0, TileShape.unsignedToDouble(12345));
    }

    @Test
    void strategiesCompareByName() {
        assertEquals(Strategy.TENSOR_PARALLEL, new Strategy("TensorParallel"));
        assertNotEquals(Strategy.TENSOR_PARALLEL, Strategy.MODEL_PARALLEL);
    }
}
