package org.popsolutions.spanker.ggml.quant;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/** The reference format of every computable {@link GgmlType}. Formats are stateless and thread-safe. */
public final class QuantFormats {
    private static final Map<GgmlType, QuantFormat> FORMATS = new EnumMap<>(GgmlType.class);

    static {
        for (QuantFormat f : new QuantFormat[] {new F32Format(), new F16Format(), new BF16Format(), new Q4_0Format(),
                new Q4_1Format(), new Q8_0Format(), new Q8_1Format(), new Q4_KFormat(), new Q6_KFormat(),
                new Q8_KFormat()}) {
            FORMATS.put(f.type(), f);
        }
    }

    private QuantFormats() {
    }

    public static Optional<QuantFormat> find(GgmlType type) {
        return Optional.ofNullable(FORMATS.get(type));
    }

    /** @throws IllegalArgumentException when the type is only known by layout */
    public static QuantFormat of(GgmlType type) {
        return find(type).orElseThrow(() -> new IllegalArgumentException("no encoder/decoder for ggml type " + type));
    }
}
