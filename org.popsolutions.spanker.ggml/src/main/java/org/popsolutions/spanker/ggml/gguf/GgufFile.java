package org.popsolutions.spanker.ggml.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;

/**
 * A validated GGUF file: header, metadata in file order, tensor table in file order, and each tensor's bytes
 * (a read-only little-endian view of a memory mapping, or of the in-memory file).
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

    GgufFile(int version, Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, Map<String, ByteBuffer> data,
            int alignment, long dataOffset, long fileSize) {
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
}
