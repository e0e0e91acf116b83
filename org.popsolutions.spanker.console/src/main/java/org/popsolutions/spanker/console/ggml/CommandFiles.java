package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/** Files and type options shared by the ggml commands. */
final class CommandFiles {
    /** Formats with an encoder and decoder (values of --type for quantize / dequantize). */
    static final List<String> FORMATS = List.of("f32", "f16", "bf16", "q4_0", "q4_1", "q8_0", "q8_1", "q4_k", "q6_k",
            "q8_k");
    /** Weight formats with a dot product. */
    static final List<String> WEIGHT_FORMATS = List.of("f32", "f16", "bf16", "q4_0", "q4_1", "q8_0", "q4_k", "q6_k");

    private CommandFiles() {
    }

    static GgmlType type(Arguments arguments) {
        String name = arguments.requiredString("type");
        return GgmlType.byName(name).orElseThrow(() -> new UsageException("unknown --type " + name));
    }

    static byte[] read(String file) {
        try {
            return Files.readAllBytes(Path.of(file));
        } catch (NoSuchFileException e) {
            throw new UsageException("no such file: " + file);
        } catch (IOException e) {
            throw new DeviceException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static void write(String file, byte[] bytes) {
        try {
            Files.write(Path.of(file), bytes);
        } catch (IOException e) {
            throw new DeviceException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static float[] readFloats(String file) {
        byte[] raw = read(file);
        if (raw.length % 4 != 0) {
            throw new UsageException(file + " has " + raw.length + " bytes, not a whole number of float32 values");
        }
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static byte[] floatBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return b.array();
    }

    static void checkBlocks(GgmlType type, long values, String what) {
        if (values % type.blockSize() != 0) {
            throw new UsageException(what + " has " + values + " values; " + type.ggmlName() + " needs a multiple of "
                    + type.blockSize());
        }
    }

    static void checkWholeBlocks(GgmlType type, long bytes, String what) {
        if (bytes % type.typeSize() != 0) {
            throw new UsageException(what + " has " + bytes + " bytes; " + type.ggmlName() + " blocks are "
                    + type.typeSize() + " bytes");
        }
    }

    static String lower(GgmlType t) {
        return t.ggmlName().toLowerCase(Locale.ROOT);
    }
}
