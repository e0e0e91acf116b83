package org.popsolutions.spanker.ggml.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link QuantFormat#firstNonFinite} is defined by {@link QuantFormat#dequantize}: the first decoded value that is NaN
 * or infinite. The formats that answer from their block scales are checked against that definition on random bytes
 * (every bit pattern of scales and integers) and on real quantized data.
 */
class FirstNonFiniteTest {
    private static final int BLOCKS = 24;
    private static final int OFFSET = 7;

    private static int byDecoding(QuantFormat format, ByteBuffer src, int offset, int count) {
        float[] values = new float[count];
        format.dequantize(src, offset, values, 0, count);
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void everyFormatAgreesWithItsDecoderOnRandomBytes() {
        Random random = new Random(42);
        for (GgmlType type : GgmlType.values()) {
            QuantFormat format = QuantFormats.find(type).orElse(null);
            if (format == null) {
                continue;
            }
            int count = BLOCKS * type.blockSize();
            int bytes = (int) type.bytesFor(count);
            int found = 0;
            for (int trial = 0; trial < 200; trial++) {
                ByteBuffer src = ByteBuffer.allocate(OFFSET + bytes).order(ByteOrder.LITTLE_ENDIAN);
                random.nextBytes(src.array());
                int expected = byDecoding(format, src, OFFSET, count);
                assertEquals(expected, format.firstNonFinite(src, OFFSET, count), type + " trial " + trial);
                found += expected >= 0 ? 1 : 0;
            }
            assertTrue(found > 0, type + ": random bytes never decoded to a non-finite value");
        }
    }

    @Test
    void quantizedFiniteDataIsFiniteAndOneSpoiledScaleIsFound() {
        Random random = new Random(7);
        for (GgmlType type : GgmlType.values()) {
            QuantFormat format = QuantFormats.find(type).orElse(null);
            if (format == null) {
                continue;
            }
            float[] values = new float[BLOCKS * type.blockSize()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            ByteBuffer src = ByteBuffer.wrap(format.quantize(values)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(-1, format.firstNonFinite(src, 0, values.length), type.toString());
            // the first byte pair of block 5 that decodes to something non-finite when it holds fp16 NaN
            int block = 5 * type.typeSize();
            boolean spoiled = false;
            for (int at = block; at < block + type.typeSize() - 1 && !spoiled; at++) {
                ByteBuffer copy = ByteBuffer.wrap(src.array().clone()).order(ByteOrder.LITTLE_ENDIAN);
                copy.putShort(at, (short) 0x7e00);
                copy.putShort(at - at % 2 + (type == GgmlType.F32 ? 2 : 0), (short) 0x7fc0);
                int expected = byDecoding(format, copy, 0, values.length);
                if (expected >= 0) {
                    assertEquals(expected, format.firstNonFinite(copy, 0, values.length), type + " at byte " + at);
                    spoiled = true;
                }
            }
            assertTrue(spoiled, type + ": no byte of block 5 spoils a value");
        }
    }
}
