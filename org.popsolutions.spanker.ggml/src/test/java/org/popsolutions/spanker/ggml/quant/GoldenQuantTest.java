package org.popsolutions.spanker.ggml.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Bit-exactness against ggml's own output (golden data from /work/shared/golden/quant, see {@link Golden}). */
class GoldenQuantTest {
    private static final float[] W = Golden.floats("w256.f32");
    private static final float[] A = Golden.floats("a256.f32");

    @Test
    void inputsAreTheDocumentedGenerator() {
        assertBitsEqual(Golden.xorshift(1, 256), W);
        assertBitsEqual(Golden.xorshift(2, 256), A);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16", "q4_0", "q4_1", "q8_0", "q4_K", "q6_K"})
    void quantizedBytesAreGgmls(String name) {
        QuantFormat format = QuantFormats.of(GgmlType.byName(name).orElseThrow());
        assertArrayEquals(Golden.bytes("w256." + name + ".bin"), format.quantize(W), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f16", "bf16", "q4_0", "q4_1", "q8_0", "q4_K", "q6_K"})
    void dequantizedFloatsAreGgmlsBitForBit(String name) {
        QuantFormat format = QuantFormats.of(GgmlType.byName(name).orElseThrow());
        assertBitsEqual(Golden.floats("w256." + name + ".dequant.f32"),
                format.dequantize(Golden.bytes("w256." + name + ".bin")));
    }

    @Test
    void q8_0ActivationsByReferenceRule() {
        assertArrayEquals(Golden.bytes("a256.act.q8_0.ref.bin"), new Q8_0Format().quantize(A));
    }

    @Test
    void q8_0ActivationsByCpuRule() {
        byte[] out = new byte[8 * Q8_0Format.BYTES];
        new Q8_0Format().quantizeActivations(A, 0, le(out), 0, 256);
        assertArrayEquals(Golden.bytes("a256.act.q8_0.cpu.bin"), out);
    }

    @Test
    void q8_KActivations() {
        assertArrayEquals(Golden.bytes("a256.act.q8_K.cpu.bin"), new Q8_KFormat().quantize(A));
    }

    static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void assertBitsEqual(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Integer.toHexString(Float.floatToRawIntBits(expected[i])),
                    Integer.toHexString(Float.floatToRawIntBits(actual[i])), "value " + i);
        }
    }
}
