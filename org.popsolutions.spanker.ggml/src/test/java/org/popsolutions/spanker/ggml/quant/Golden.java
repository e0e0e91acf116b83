package org.popsolutions.spanker.ggml.quant;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reads the ggml golden vectors copied from {@code /work/shared/golden/quant} (produced by building ggml /
 * llama.cpp for x86-64 AVX2 and running its reference functions; see that folder's README) into
 * {@code src/test/resources/golden/quant}.
 */
public final class Golden {
    private Golden() {
    }

    public static byte[] bytes(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/quant/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource golden/quant/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float[] floats(String name) {
        byte[] raw = bytes(name);
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The README's generator: xorshift32 from {@code seed}, value ((s >>> 8)·2^-24)·2 − 1 in float32. */
    public static float[] xorshift(int seed, int n) {
        float[] out = new float[n];
        int s = seed;
        for (int i = 0; i < n; i++) {
            s ^= s << 13;
            s ^= s >>> 17;
            s ^= s << 5;
            out[i] = ((s >>> 8) * 0x1p-24f) * 2 - 1;
        }
        return out;
    }
}
