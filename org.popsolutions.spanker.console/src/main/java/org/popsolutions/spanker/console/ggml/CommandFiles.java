package org.popsolutions.spanker.console.ggml;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.ggml.gguf.FileChecks;
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

    /** Largest Java array: whole-file commands read at most this many bytes. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

    /**
     * A whole input file, after checking that it is a regular file (a FIFO would block forever, /dev/zero never
     * end) and that {@code heapPerByte} times its size fits in the Java heap (what the command holds while
     * converting it).
     */
    static byte[] read(String file, double heapPerByte) {
        Path path = Path.of(file);
        String problem = FileChecks.readProblem(path);
        if (problem != null) {
            throw new UsageException(file + ": " + problem);
        }
        try {
            long size = Files.size(path);
            if (size > MAX_FILE_BYTES) {
                throw new UsageException(file + " has " + size + " bytes; this command reads whole files of at most "
                        + MAX_FILE_BYTES + " bytes (2 GiB): split it");
            }
            requireHeap((long) (size * heapPerByte), "converting " + file + " (" + size + " bytes)");
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new DeviceException("cannot read " + file + ": " + FileChecks.reason(e), e);
        }
    }

    /** Refuses work that would need more Java heap than is free, with both numbers, before allocating it. */
    static void requireHeap(long bytes, String what) {
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        if (bytes > free) {
            throw new UsageException(what + " needs about " + bytes + " bytes (" + gib(bytes) + ") of Java heap; "
                    + free + " bytes (" + gib(free) + ") are free (maximum heap " + gib(runtime.maxMemory())
                    + ", -Xmx)");
        }
    }

    /**
     * Refuses buffers that would not fit in the direct memory still free, with both numbers, before allocating them:
     * the mock cards keep their weights and KV caches there, off the Java heap.
     */
    static void requireDirectMemory(long bytes, String what) {
        long max = maxDirectMemory();
        long used = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getTotalCapacity).sum();
        long free = max - used;
        if (bytes > free) {
            throw new UsageException(what + " needs about " + bytes + " bytes (" + gib(bytes) + ") of direct memory"
                    + " (off the Java heap, where the mock cards keep them); " + free + " bytes (" + gib(free)
                    + ") are free (maximum " + gib(max) + ", -XX:MaxDirectMemorySize)");
        }
    }

    /** The JVM's cap on direct buffers: the last -XX:MaxDirectMemorySize given, else the maximum heap (its default). */
    static long maxDirectMemory() {
        long max = -1;
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith(MAX_DIRECT_OPTION)) {
                max = size(argument.substring(MAX_DIRECT_OPTION.length()), max);
            }
        }
        return max > 0 ? max : Runtime.getRuntime().maxMemory();
    }

    private static final String MAX_DIRECT_OPTION = "-XX:MaxDirectMemorySize=";

    /** A JVM size option's value (bytes, or with k/m/g/t), or {@code otherwise} if it does not parse. */
    private static long size(String text, long otherwise) {
        if (text.isEmpty()) {
            return otherwise;
        }
        int shift = switch (Character.toLowerCase(text.charAt(text.length() - 1))) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        try {
            long value = Long.parseLong(shift == 0 ? text : text.substring(0, text.length() - 1));
            return value > Long.MAX_VALUE >> shift ? Long.MAX_VALUE : value << shift;
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /** Raw float32 values; {@code heapPerByte} as for {@link #read(String, double)}, the floats included. */
    static float[] readFloats(String file, double heapPerByte) {
        byte[] raw = read(file, heapPerByte);
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
