package org.popsolutions.spanker.ggml.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * Reads and validates GGUF v2/v3 (little-endian; the two versions share every width). Every malformed input ends
 * in an {@link InvalidModelException} naming the field and its byte offset: all counts and lengths are checked
 * against the bytes that remain before anything is allocated, so a hostile file cannot make it allocate more than
 * a small multiple of its own size or loop longer than its length. Tensor data is memory-mapped, one mapping per
 * tensor (so files above 2 GiB work; a single tensor must stay below 2 GiB).
 */
public final class GgufReader {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int MAX_NAME_BYTES = 65_535;
    static final int MAX_STRING_BYTES = 64 << 20;
    static final int MAX_ARRAY_DEPTH = 8;
    static final int MAX_DIMS = 4;
    private static final int MIN_KV_BYTES = 8 + 1 + 4 + 1;
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8;

    private GgufReader() {
    }

    /** Opens a file, validates it completely and maps every tensor's bytes. */
    public static GgufFile open(Path path) {
        requireRegularFile(path);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            Header header = parse(new Input(channel::read, size), size);
            Map<String, ByteBuffer> data = new HashMap<>();
            for (GgufTensorInfo t : header.tensors) {
                long at = header.dataOffset + t.offset();
                data.put(t.name(), t.byteSize() == 0 ? ByteBuffer.allocate(0)
                        : channel.map(FileChannel.MapMode.READ_ONLY, at, t.byteSize()).asReadOnlyBuffer());
            }
            return new GgufFile(header.version, header.metadata, header.tensors, data, header.alignment,
                    header.dataOffset, size, path);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read model file " + path + ": " + FileChecks.reason(e), e);
        }
    }

    /** Reads a GGUF image held in memory; tensor views share {@code bytes}. */
    public static GgufFile read(byte[] bytes) {
        ByteBuffer whole = ByteBuffer.wrap(bytes);
        Header header;
        try {
            header = parse(new Input((dst, position) -> {
                int n = Math.min(dst.remaining(), bytes.length - (int) position);
                dst.put(bytes, (int) position, n);
                return n;
            }, bytes.length), bytes.length);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read GGUF bytes: " + e.getMessage(), e);
        }
        Map<String, ByteBuffer> data = new HashMap<>();
        for (GgufTensorInfo t : header.tensors) {
            data.put(t.name(), t.byteSize() == 0 ? ByteBuffer.allocate(0)
                    : whole.slice((int) (header.dataOffset + t.offset()), (int) t.byteSize()).asReadOnlyBuffer());
        }
        return new GgufFile(header.version, header.metadata, header.tensors, data, header.alignment, header.dataOffset,
                bytes.length, null);
    }

    /** Reads only the header, metadata and tensor table (no mapping). */
    public static GgufFile readHeader(Path path) {
        requireRegularFile(path);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            Header h = parse(new Input(channel::read, size), size);
            return new GgufFile(h.version, h.metadata, h.tensors, Map.of(), h.alignment, h.dataOffset, size, path);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read model file " + path + ": " + FileChecks.reason(e), e);
        }
    }

    /** The one answer to a model path that is not a readable file (missing, a folder, a device or FIFO). */
    private static void requireRegularFile(Path path) {
        String problem = FileChecks.readProblem(path);
        if (problem != null) {
            throw new InvalidModelException("model file " + path + ": " + problem);
        }
    }

    static boolean exists(Path path) {
        return Files.isRegularFile(path);
    }

    private record Header(int version, Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, int alignment,
            long dataOffset) {
    }

    private static Header parse(Input in, long fileSize) throws IOException {
        if (fileSize < 4) {
            throw new InvalidModelException("not a GGUF file: " + fileSize + " bytes, too short for the magic");
        }
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw new InvalidModelException(String.format("not a GGUF file: magic at offset 0 is 0x%08x, expected"
                    + " 0x%08x (\"GGUF\")", magic, MAGIC));
        }
        int version = in.i32("version");
        if (version != 2 && version != 3) {
            if (version == 1) {
                throw new InvalidModelException("unsupported GGUF version 1 (32-bit counts, before August 2023);"
                        + " supported versions are 2 and 3 - convert the file with a current llama.cpp");
            }
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new InvalidModelException("big-endian GGUF (version field " + Integer.reverseBytes(version)
                        + " byte-swapped) is not supported; only little-endian files are");
            }
            throw new InvalidModelException("unsupported GGUF version " + Integer.toUnsignedString(version)
                    + " at offset 4; supported versions are 2 and 3");
        }
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("metadata count");
        checkCount(in, tensorCount, MIN_TENSOR_INFO_BYTES, "tensor count", 8);
        checkCount(in, kvCount, MIN_KV_BYTES, "metadata count", 16);

        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = in.position();
            String key = in.string("key of metadata entry " + i, MAX_NAME_BYTES);
            if (key.isEmpty()) {
                throw new InvalidModelException("metadata entry " + i + " at offset " + keyAt + " has an empty key");
            }
            int typeId = in.i32("type of '" + key + "'");
            GgufValueType type = GgufValueType.byId(typeId).orElseThrow(() -> new InvalidModelException(
                    "unknown value type " + typeId + " for metadata key '" + key + "' at offset " + (in.position() - 4)
                            + "; known types are 0..12"));
            GgufValue value = readValue(in, type, key, 0);
            if (metadata.putIfAbsent(key, value) != null) {
                throw new InvalidModelException("duplicate metadata key '" + key + "' at offset " + keyAt);
            }
        }

        int alignment = alignment(metadata);

        List<GgufTensorInfo> tensors = new ArrayList<>();
        Map<String, Long> infoOffsets = new HashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long infoAt = in.position();
            String name = in.string("name of tensor " + i, MAX_NAME_BYTES);
            if (infoOffsets.putIfAbsent(name, infoAt) != null) {
                throw new InvalidModelException("duplicate tensor name '" + name + "' at offset " + infoAt
                        + " (first at offset " + infoOffsets.get(name) + ")");
            }
            int dims = in.i32("dimension count of tensor '" + name + "'");
            if (dims < 1 || dims > MAX_DIMS) {
                throw new InvalidModelException("tensor '" + name + "' has " + Integer.toUnsignedString(dims)
                        + " dimensions; expected 1.." + MAX_DIMS);
            }
            long[] shape = new long[dims];
            long elements = 1;
            for (int d = 0; d < dims; d++) {
                shape[d] = in.i64("dimension " + d + " of tensor '" + name + "'");
                if (shape[d] < 0) {
                    throw new InvalidModelException("tensor '" + name + "' dimension " + d + " is negative ("
                            + Long.toUnsignedString(shape[d]) + " as unsigned)");
                }
                if (shape[d] != 0 && elements > Long.MAX_VALUE / shape[d]) {
                    throw new InvalidModelException("tensor '" + name + "' shape " + java.util.Arrays.toString(shape)
                            + " overflows a 64-bit element count");
                }
                elements *= shape[d];
            }
            int typeId = in.i32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.byId(typeId).orElseThrow(() -> new InvalidModelException("tensor '" + name
                    + "' has unknown ggml type id " + typeId));
            if (shape[0] % type.blockSize() != 0) {
                throw new InvalidModelException("tensor '" + name + "' of type " + type + " has rows of " + shape[0]
                        + " values, not a multiple of its block size " + type.blockSize());
            }
            long bytes = type.bytesFor(elements);
            if (bytes < 0) {
                throw new InvalidModelException("tensor '" + name + "' size overflows: " + elements + " values of "
                        + type);
            }
            long offset = in.i64("data offset of tensor '" + name + "'");
            if (offset < 0 || offset % alignment != 0) {
                throw new InvalidModelException("tensor '" + name + "' data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            tensors.add(new GgufTensorInfo(name, type, shape, offset, bytes));
        }

        long headerEnd = in.position();
        long dataOffset = alignUp(headerEnd, alignment);
        for (GgufTensorInfo t : tensors) {
            long available = fileSize - dataOffset;
            if (t.byteSize() > 0 && (available < 0 || t.offset() > available || t.byteSize() > available - t.offset())) {
                throw new InvalidModelException("tensor '" + t.name() + "' bytes [" + t.offset() + ", +" + t.byteSize()
                        + ") fall outside the file: the data section starts at offset " + dataOffset
                        + " and the file has " + fileSize + " bytes");
            }
            if (t.byteSize() > Integer.MAX_VALUE - 8) {
                throw new InvalidModelException("tensor '" + t.name() + "' has " + t.byteSize()
                        + " bytes; single tensors above 2 GiB are not supported");
            }
        }
        List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
        byOffset.removeIf(t -> t.byteSize() == 0);
        byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensorInfo prev = byOffset.get(i - 1);
            GgufTensorInfo next = byOffset.get(i);
            if (next.offset() < prev.offset() + prev.byteSize()) {
                throw new InvalidModelException("tensor '" + next.name() + "' at data offset " + next.offset()
                        + " overlaps tensor '" + prev.name() + "' [" + prev.offset() + ", "
                        + (prev.offset() + prev.byteSize()) + ")");
            }
        }
        return new Header(version, metadata, tensors, alignment, dataOffset);
    }

    private static int alignment(Map<String, GgufValue> metadata) {
        GgufValue v = metadata.get(GgufFile.ALIGNMENT_KEY);
        if (v == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        if (v.type() != GgufValueType.UINT32) {
            throw new InvalidModelException(GgufFile.ALIGNMENT_KEY + " must be a uint32, found " + v.type());
        }
        long a = v.asLong();
        if (a == 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
            throw new InvalidModelException(GgufFile.ALIGNMENT_KEY + " is " + a
                    + "; expected a power of two between 1 and 2^30");
        }
        return (int) a;
    }

    static long alignUp(long offset, long alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private static void checkCount(Input in, long count, int minimumBytes, String what, long at) {
        if (count < 0 || count > in.remaining() / minimumBytes) {
            throw new InvalidModelException(what + " at offset " + at + " is " + Long.toUnsignedString(count)
                    + ", impossible with " + in.remaining() + " bytes left (each needs at least " + minimumBytes + ")");
        }
    }

    private static GgufValue readValue(Input in, GgufValueType type, String key, int depth) throws IOException {
        String what = "value of '" + key + "'";
        return new GgufValue(type, switch (type) {
            case UINT8, INT8 -> in.i8(what);
            case UINT16, INT16 -> in.i16(what);
            case UINT32, INT32 -> in.i32(what);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT32 -> Float.intBitsToFloat(in.i32(what));
            case FLOAT64 -> Double.longBitsToDouble(in.i64(what));
            case BOOL -> in.bool(what);
            case STRING -> in.string(what, MAX_STRING_BYTES);
            case ARRAY -> readArray(in, key, depth + 1);
        });
    }

    private static GgufArray readArray(Input in, String key, int depth) throws IOException {
        if (depth > MAX_ARRAY_DEPTH) {
            throw new InvalidModelException("metadata '" + key + "' nests arrays deeper than " + MAX_ARRAY_DEPTH
                    + " levels at offset " + in.position());
        }
        int typeId = in.i32("array element type of '" + key + "'");
        GgufValueType type = GgufValueType.byId(typeId).orElseThrow(() -> new InvalidModelException(
                "unknown array element type " + typeId + " for metadata key '" + key + "' at offset "
                        + (in.position() - 4)));
        long countAt = in.position();
        long count = in.i64("array length of '" + key + "'");
        if (count < 0 || count > in.remaining() / type.minimumBytes() || count > Integer.MAX_VALUE - 8) {
            throw new InvalidModelException("array '" + key + "' at offset " + countAt + " claims "
                    + Long.toUnsignedString(count) + " " + type + " elements; only " + in.remaining()
                    + " bytes remain");
        }
        int n = (int) count;
        String what = "element of array '" + key + "'";
        Object values = switch (type) {
            case UINT8, INT8 -> in.bytes(n, what);
            case UINT16, INT16 -> {
                short[] a = new short[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i16(what);
                }
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i32(what);
                }
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.i64(what);
                }
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = Float.intBitsToFloat(in.i32(what));
                }
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = Double.longBitsToDouble(in.i64(what));
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.bool(what);
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.string(what, MAX_STRING_BYTES);
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readArray(in, key, depth + 1);
                }
                yield a;
            }
        };
        return new GgufArray(type, values);
    }

    /** Something that reads bytes at an absolute position, like {@link FileChannel#read(ByteBuffer, long)}. */
    @FunctionalInterface
    interface Source {
        int read(ByteBuffer dst, long position) throws IOException;
    }

    /** Buffered little-endian reading with the position and every bound checked. */
    static final class Input {
        private final Source source;
        private final long size;
        private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long bufferStart;

        Input(Source source, long size) {
            this.source = source;
            this.size = size;
            buffer.limit(0);
        }

        long position() {
            return bufferStart + buffer.position();
        }

        long remaining() {
            return size - position();
        }

        private void need(int n, String what) throws IOException {
            if (buffer.remaining() >= n) {
                return;
            }
            if (remaining() < n) {
                throw new InvalidModelException("truncated GGUF: " + what + " at offset " + position() + " needs "
                        + n + " bytes, only " + remaining() + " remain");
            }
            long pos = position();
            buffer.compact();
            bufferStart = pos; // compact moved the unread bytes to index 0
            while (buffer.position() < n) {
                long at = bufferStart + buffer.position();
                int want = (int) Math.min(buffer.remaining(), size - at);
                ByteBuffer window = buffer.slice(buffer.position(), want);
                int got = source.read(window, at);
                if (got <= 0) {
                    throw new InvalidModelException("GGUF file shrank while reading: " + what + " at offset " + pos);
                }
                buffer.position(buffer.position() + got);
            }
            buffer.flip();
            bufferStart = pos;
        }

        byte i8(String what) throws IOException {
            need(1, what);
            return buffer.get();
        }

        short i16(String what) throws IOException {
            need(2, what);
            return buffer.getShort();
        }

        int i32(String what) throws IOException {
            need(4, what);
            return buffer.getInt();
        }

        long i64(String what) throws IOException {
            need(8, what);
            return buffer.getLong();
        }

        boolean bool(String what) throws IOException {
            long at = position();
            byte b = i8(what);
            if (b != 0 && b != 1) {
                throw new InvalidModelException(what + " at offset " + at + " is a bool of value " + (b & 0xff)
                        + "; expected 0 or 1");
            }
            return b == 1;
        }

        byte[] bytes(int n, String what) throws IOException {
            if (n > remaining()) {
                throw new InvalidModelException("truncated GGUF: " + what + " at offset " + position() + " needs " + n
                        + " bytes, only " + remaining() + " remain");
            }
            byte[] out = new byte[n];
            int done = 0;
            while (done < n) {
                int chunk = Math.min(n - done, buffer.capacity());
                need(chunk, what);
                buffer.get(out, done, chunk);
                done += chunk;
            }
            return out;
        }

        String string(String what, int maxBytes) throws IOException {
            long at = position();
            long length = i64("length of " + what);
            if (length < 0 || length > remaining()) {
                throw new InvalidModelException("truncated GGUF: " + what + " at offset " + at + " claims "
                        + Long.toUnsignedString(length) + " bytes, only " + remaining() + " remain");
            }
            if (length > maxBytes) {
                throw new InvalidModelException(what + " at offset " + at + " is " + length + " bytes long; the limit is "
                        + maxBytes);
            }
            // like ggml, invalid UTF-8 is not an error (some vocabularies hold partial sequences): it decodes to U+FFFD
            return new String(bytes((int) length, what), StandardCharsets.UTF_8);
        }
    }
}
