package org.popsolutions.spanker.ggml.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Writes GGUF v3 as llama.cpp does: header, metadata in insertion order, tensor infos, zero padding to the
 * alignment ({@code general.alignment} when set, else 32), then each tensor's bytes padded to the alignment.
 */
public final class GgufWriter {
    /** A tensor to write: its bytes are {@code data} from position 0 to its capacity. */
    public record Tensor(String name, GgmlType type, long[] shape, ByteBuffer data) {
        public Tensor {
            shape = shape.clone();
        }
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(Map<String, GgufValue> values) {
        metadata.putAll(values);
        return this;
    }

    public GgufWriter tensor(String name, GgmlType type, long[] shape, ByteBuffer data) {
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        if (shape.length < 1 || shape.length > GgufReader.MAX_DIMS || type.bytesFor(elements) != data.capacity()
                || shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + java.util.Arrays.toString(shape)
                    + " of " + type + " needs " + type.bytesFor(elements) + " bytes, got " + data.capacity());
        }
        tensors.add(new Tensor(name, type, shape, data));
        return this;
    }

    /** The metadata so far, in insertion order (read-only). */
    public Map<String, GgufValue> metadata() {
        return java.util.Collections.unmodifiableMap(metadata);
    }

    private int alignment() {
        GgufValue v = metadata.get(GgufFile.ALIGNMENT_KEY);
        return v == null ? GgufFile.DEFAULT_ALIGNMENT : (int) v.asLong();
    }

    public void write(Path path) {
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }

    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public void write(OutputStream stream) throws IOException {
        int alignment = alignment();
        CountingOutput out = new CountingOutput(stream);
        header(out, alignment);
        for (Tensor t : tensors) {
            ByteBuffer data = t.data().duplicate();
            data.clear();
            byte[] chunk = new byte[(int) Math.min(1 << 20, Math.max(1, data.capacity()))];
            while (data.hasRemaining()) {
                int n = Math.min(chunk.length, data.remaining());
                data.get(chunk, 0, n);
                out.bytes(chunk, n);
            }
            out.pad(alignment);
        }
        out.flush();
    }

    /**
     * Writes only the header, metadata and tensor infos (padded to the alignment), not the tensors' bytes; returns
     * the length the whole file has with them, so that a caller can leave the data section as a hole of zeros.
     */
    public long writeHeader(OutputStream stream) throws IOException {
        CountingOutput out = new CountingOutput(stream);
        long dataBytes = header(out, alignment());
        out.flush();
        return out.written + dataBytes;
    }

    /** The part before the data section; returns the data section's length. */
    private long header(CountingOutput out, int alignment) throws IOException {
        out.i32(GgufReader.MAGIC);
        out.i32(3);
        out.i64(tensors.size());
        out.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            out.string(e.getKey());
            out.i32(e.getValue().type().id());
            writeValue(out, e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name());
            out.i32(t.shape().length);
            for (long d : t.shape()) {
                out.i64(d);
            }
            out.i32(t.type().id());
            out.i64(offset);
            offset = GgufReader.alignUp(offset + t.data().capacity(), alignment);
        }
        out.pad(alignment);
        return offset;
    }

    private static void writeValue(CountingOutput out, GgufValueType type, Object value) throws IOException {
        switch (type) {
            case UINT8, INT8 -> out.i8((Byte) value);
            case UINT16, INT16 -> out.i16((Short) value);
            case UINT32, INT32 -> out.i32((Integer) value);
            case UINT64, INT64 -> out.i64((Long) value);
            case FLOAT32 -> out.i32(Float.floatToRawIntBits((Float) value));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits((Double) value));
            case BOOL -> out.i8((byte) ((Boolean) value ? 1 : 0));
            case STRING -> out.string((String) value);
            case ARRAY -> writeArray(out, (GgufArray) value);
        }
    }

    private static void writeArray(CountingOutput out, GgufArray array) throws IOException {
        out.i32(array.elementType().id());
        out.i64(array.size());
        Object v = array.values();
        for (int i = 0; i < array.size(); i++) {
            switch (array.elementType()) {
                case UINT8, INT8 -> out.i8(((byte[]) v)[i]);
                case UINT16, INT16 -> out.i16(((short[]) v)[i]);
                case UINT32, INT32 -> out.i32(((int[]) v)[i]);
                case UINT64, INT64 -> out.i64(((long[]) v)[i]);
                case FLOAT32 -> out.i32(Float.floatToRawIntBits(((float[]) v)[i]));
                case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((double[]) v)[i]));
                case BOOL -> out.i8((byte) (((boolean[]) v)[i] ? 1 : 0));
                case STRING -> out.string(((String[]) v)[i]);
                case ARRAY -> writeArray(out, ((GgufArray[]) v)[i]);
            }
        }
    }

    private static final class CountingOutput {
        private final OutputStream out;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        CountingOutput(OutputStream out) {
            this.out = out;
        }

        void i8(byte v) throws IOException {
            out.write(v);
            written++;
        }

        void i16(short v) throws IOException {
            scratch.clear();
            scratch.putShort(v);
            bytes(scratch.array(), 2);
        }

        void i32(int v) throws IOException {
            scratch.clear();
            scratch.putInt(v);
            bytes(scratch.array(), 4);
        }

        void i64(long v) throws IOException {
            scratch.clear();
            scratch.putLong(v);
            bytes(scratch.array(), 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b, b.length);
        }

        void bytes(byte[] b, int n) throws IOException {
            out.write(b, 0, n);
            written += n;
        }

        void pad(int alignment) throws IOException {
            long target = GgufReader.alignUp(written, alignment);
            while (written < target) {
                i8((byte) 0);
            }
        }

        void flush() throws IOException {
            out.flush();
        }
    }
}
