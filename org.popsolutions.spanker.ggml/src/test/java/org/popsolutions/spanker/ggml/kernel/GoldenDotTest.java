package org.popsolutions.spanker.ggml.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Golden;

/**
 * ggml's dot products (golden/quant/dots256.json, from /work/shared/golden/quant: ggml x86 AVX2 results with the
 * exact value of the integer block arithmetic and L1 = Σ|w·a|): ours must be within 1e-5·L1 of the exact value,
 * from the golden activation bytes and from activations we quantize ourselves, with both kernel sets.
 */
class GoldenDotTest {
    static Stream<Arguments> cases() {
        JsonObject root = JsonParser.parseString(new String(Golden.bytes("dots256.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
        return root.getAsJsonArray("dots").asList().stream().map(e -> {
            JsonObject o = e.getAsJsonObject();
            return Arguments.of(o.get("name").getAsString(), o.get("x").getAsString(), o.get("y").getAsString(),
                    o.get("exact").getAsDouble(), o.get("l1").getAsDouble(), o.get("ggml").getAsFloat());
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesGgmlWithinTolerance(String name, String weights, String activations, double exact, double l1,
            float ggml) {
        GgmlType type = GgmlType.byName(weights.substring(5, weights.length() - 4)).orElseThrow();
        ByteBuffer w = ByteBuffer.wrap(Golden.bytes(weights)).order(ByteOrder.LITTLE_ENDIAN);
        PreparedActivation golden = PreparedActivation.ofQuantized(type, Golden.bytes(activations), 256);
        PreparedActivation ours = PreparedActivation.prepare(type, DotMode.GGML, Golden.floats("a256.f32"));
        for (Kernels k : new Kernels[] {Kernels.scalar(), Kernels.best()}) {
            float fromGolden = k.dot(w, 0, golden);
            float fromOurs = k.dot(w, 0, ours);
            assertTrue(Math.abs(fromGolden - exact) <= 1e-5 * l1, name + " " + k.name() + ": " + fromGolden
                    + " vs exact " + exact + " (ggml " + ggml + ")");
            assertEquals(fromGolden, fromOurs, 0.0f, "our activation quantization equals ggml's here");
        }
        // the float-activation mode is a different (more precise) product: close to the float one, not to ggml's
        PreparedActivation floats = PreparedActivation.prepare(type, DotMode.FLOAT, Golden.floats("a256.f32"));
        float f = Kernels.scalar().dot(w, 0, floats);
        assertTrue(Math.abs(f - exact) <= 0.01 * l1, name + " float mode " + f);
    }
}
