package org.popsolutions.spanker.cluster.node;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pod needs to load a model as a pipeline over its hosts, as the bytes of one tensor (big-endian): the model
 * path (u16 length + UTF-8), u32 cards per host, u32 context, u8 float activations, u32 threads per card, u32 timeout
 * seconds, u8 device (0 mock, 1 sails), u32 stage count, then per stage u32 first block, u32 end block, u8
 * embedding, u8 head.
 */
public record PipelineSpec(String model, int cardsPerHost, int contextLength, boolean floatActivations,
        int threadsPerCard, int timeoutSeconds, String device, List<Stage> stages) {
    private static final List<String> DEVICES = List.of("mock", "sails");

    /** Blocks [first, end) of one host. */
    public record Stage(int first, int end, boolean embeds, boolean head) {
    }

    public PipelineSpec {
        if (!DEVICES.contains(device)) {
            throw new IllegalArgumentException("a host's cards are mock or sails, not '" + device + "'");
        }
        stages = List.copyOf(stages);
    }

    /** 0 mock, 1 sails, 255 any other provider. */
    public static int deviceCode(String provider) {
        int code = DEVICES.indexOf(provider);
        return code < 0 ? 255 : code;
    }

    public static String deviceName(int code) {
        return code >= 0 && code < DEVICES.size() ? DEVICES.get(code) : "another provider";
    }

    public byte[] encode() {
        byte[] path = model.getBytes(StandardCharsets.UTF_8);
        if (path.length > 4096) {
            throw new IllegalArgumentException("the model path is longer than 4096 bytes");
        }
        ByteBuffer buffer = ByteBuffer.allocate(2 + path.length + 22 + 10 * stages.size());
        buffer.putShort((short) path.length).put(path).putInt(cardsPerHost).putInt(contextLength)
                .put((byte) (floatActivations ? 1 : 0)).putInt(threadsPerCard).putInt(timeoutSeconds)
                .put((byte) DEVICES.indexOf(device)).putInt(stages.size());
        for (Stage stage : stages) {
            buffer.putInt(stage.first()).putInt(stage.end()).put((byte) (stage.embeds() ? 1 : 0))
                    .put((byte) (stage.head() ? 1 : 0));
        }
        return buffer.array();
    }

    /** @throws IllegalArgumentException naming what is wrong with the bytes */
    public static PipelineSpec decode(byte[] bytes) {
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            byte[] path = new byte[buffer.getShort() & 0xFFFF];
            buffer.get(path);
            int cards = buffer.getInt();
            int context = buffer.getInt();
            boolean floats = buffer.get() != 0;
            int threads = buffer.getInt();
            int timeout = buffer.getInt();
            int device = buffer.get();
            int count = buffer.getInt();
            if (device < 0 || device >= DEVICES.size()) {
                throw new IllegalArgumentException("pipeline spec names device " + device + "; 0 is mock, 1 sails");
            }
            if (cards < 1 || cards > 256 || context < 1 || threads < 1 || threads > 1024 || timeout < 1 || count < 1
                    || count > 1024) {
                throw new IllegalArgumentException("pipeline spec out of range: " + cards + " cards, context "
                        + context + ", " + threads + " threads, timeout " + timeout + " s, " + count + " stages");
            }
            List<Stage> stages = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                stages.add(new Stage(buffer.getInt(), buffer.getInt(), buffer.get() != 0, buffer.get() != 0));
            }
            if (buffer.hasRemaining()) {
                throw new IllegalArgumentException("pipeline spec has " + buffer.remaining() + " trailing bytes");
            }
            return new PipelineSpec(new String(path, StandardCharsets.UTF_8), cards, context, floats, threads, timeout,
                    DEVICES.get(device), stages);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("pipeline spec ends inside a field");
        }
    }
}
