package org.popsolutions.spanker.ggml.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;

/**
 * A validated GGUF file: header, metadata in file order, tensor table in file order, and each tensor's bytes
 * (a read-only little-endian view of a memory mapping, or of the in-memory file).
 *
 * <p>A mapping's pages count in the process's resident memory once touched, and stay counted while the mapping
 * lives; code that only copies tensor bytes elsewhere (to a card) reads them with a {@link TensorReader} instead,
 * which goes through the page cache and leaves nothing resident in the process.
 */
public final class GgufFile {
    public static final String ALIGNMENT_KEY = "general.alignment";
    public static final int DEFAULT_ALIGNMENT = 32;

    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final Map<String, ByteBuffer> data;
    private final int alignment;
    private final long dataOffset;
    private final long fileSize;
    /** The file the tensors are read from, or null for an in-memory image. */
    private final Path source;

    GgufFile(int version, Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, Map<String, ByteBuffer> data,
            int alignment, long dataOffset, long fileSize, Path source) {
        this.version = version;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.tensors = List.copyOf(tensors);
        Map<String, GgufTensorInfo> byName = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensorsByName = Collections.unmodifiableMap(byName);
        this.data = data;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.fileSize = fileSize;
        this.source = source;
    }

    public int version() {
        return version;
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public Optional<GgufValue> value(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    public int alignment() {
        return alignment;
    }

    /** Absolute file offset of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The tensor's bytes: a fresh read-only little-endian view (position 0, capacity = byte size). */
    public ByteBuffer data(String name) {
        ByteBuffer b = data.get(name);
        if (b == null) {
            throw new InvalidModelException("no tensor named '" + name + "' in this GGUF file");
        }
        return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public ByteBuffer data(GgufTensorInfo tensor) {
        return data(tensor.name());
    }

    /**
     * Opens a reader of tensor bytes: positional reads of the file (no mapping touched), or copies from the
     * in-memory image. Close it when done.
     */
    public TensorReader openReader() {
        if (source == null) {
            return new TensorReader(this, null);
        }
        try {
            return new TensorReader(this, FileChannel.open(source, StandardOpenOption.READ));
        } catch (IOException e) {
            throw new InvalidModelException("cannot read model file " + source + ": " + FileChecks.reason(e), e);
        }
    }

    /** Reads ranges of tensor bytes into caller-owned buffers, so loading never holds a tensor (or the file) whole. */
    public static final class TensorReader implements AutoCloseable {
        private final GgufFile file;
        private final FileChannel channel;

        private TensorReader(GgufFile file, FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        /**
         * Fills {@code target} from its position to its limit with the tensor's bytes from {@code offset} on (an
         * offset into the tensor's data); the target's position ends at its limit.
         */
        public void read(GgufTensorInfo tensor, long offset, ByteBuffer target) {
            int length = target.remaining();
            if (offset < 0 || offset + length > tensor.byteSize()) {
                throw new IllegalArgumentException(tensor.name() + ": bytes [" + offset + ", " + (offset + length)
                        + ") outside its " + tensor.byteSize());
            }
            if (channel == null) {
                ByteBuffer data = file.data(tensor);
                target.put(data.position((int) offset).limit((int) offset + length));
                return;
            }
            long at = file.dataOffset + tensor.offset() + offset;
            try {
                while (target.hasRemaining()) {
                    int n = channel.read(target, at);
                    if (n < 0) {
                        throw new InvalidModelException("model file " + file.source + " ends at " + at + ", inside "
                                + tensor.name() + " (was it truncated after it was opened?)");
                    }
                    at += n;
                }
            } catch (IOException e) {
                throw new InvalidModelException("cannot read model file " + file.source + ": "
                        + FileChecks.reason(e), e);
            }
        }

        @Override
        public void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // read-only: nothing was written that closing could lose
                }
            }
        }
    }
}
