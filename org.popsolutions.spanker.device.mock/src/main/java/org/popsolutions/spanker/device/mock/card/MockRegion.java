package org.popsolutions.spanker.device.mock.card;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.ggml.kernel.PackedWeights;
import org.popsolutions.spanker.ggml.quant.GgmlType;

/**
 * One buffer of a mock card's DDR. It keeps its bytes in whichever form its users need: float32 values on the Java
 * heap (activations, KV caches: the ops read and write them as floats without decoding) or raw little-endian bytes
 * in a direct buffer, off the heap (weights, which the kernels read in place; KV caches) or, for origin tags, in a
 * heap buffer. Nothing is allocated
 * until the first use, which picks the form; a use of the other form converts it once (buffers are used one way in
 * practice). Weights therefore live once, off the heap: a model larger than the heap loads, as on a real card, and
 * the host's copy of the file is never needed again.
 */
final class MockRegion {
    /** Host-link transfers up to this size copy value by value; larger ones through a bulk view (made per transfer). */
    private static final int SMALL_TRANSFER = 64 * 1024;
    private static final VarHandle LITTLE_ENDIAN_FLOAT = MethodHandles
            .byteBufferViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    final long handle;
    final int bytes;
    final String purpose;
    private volatile ByteBuffer data;
    private volatile float[] floats;
    /** Bumped whenever the form changes, so cached views of the bytes know to be taken again. */
    private volatile int form;
    /**
     * Bumped by every change of the contents (host-link writes, a copy op into it, KV-cache rows) and of the form:
     * a packed copy of weights in it is good while this is unchanged.
     */
    private final AtomicInteger version = new AtomicInteger();
    /** Weights in this buffer repacked for the portable kernels (guarded by the card), by the slice they pack. */
    private final List<Packed> packed = new ArrayList<>();
    /** Kept copies of attention's cache rows of this key cache (guarded by the card, which counts their bytes). */
    private final List<KeptKvRows> keptKvRows = new ArrayList<>();
    volatile boolean freed;

    /** A slice of the buffer's weights repacked as {@code weights} when the buffer was at {@code version}. */
    record Packed(long offset, long bytes, GgmlType type, int version, PackedWeights weights) {
    }

    MockRegion(long handle, int bytes, String purpose) {
        this.handle = handle;
        this.bytes = bytes;
        this.purpose = purpose;
    }

    boolean isFloats() {
        return floats != null;
    }

    int form() {
        return form;
    }

    int version() {
        return version.get() + form;
    }

    /** The contents were changed by an op (a copy into it, KV-cache rows). */
    void changed() {
        version.incrementAndGet();
    }

    /** The packed copies held for this buffer (the card counts their bytes), for the card to look up and drop. */
    List<Packed> packed() {
        return packed;
    }

    /** The kept copies of attention's cache rows held for this key cache, for the card to look up and drop. */
    List<KeptKvRows> keptKvRows() {
        return keptKvRows;
    }

    /** The bytes (absolute indexing from 0), converting from floats if needed. */
    ByteBuffer bytes() {
        ByteBuffer d = data;
        return d != null ? d : materializeBytes();
    }

    private synchronized ByteBuffer materializeBytes() {
        if (data == null) {
            ByteBuffer b = allocateDirect();
            float[] f = floats;
            if (f != null) {
                b.asFloatBuffer().put(f);
                floats = null;
                form++;
            }
            data = b;
        }
        return data;
    }

    /**
     * The bytes in a heap buffer (origin tags: the reduce ops compare them as a {@code byte[]}), converting from the
     * other forms if needed. Tag buffers hold a byte per value, a fifth of the values they tag.
     */
    synchronized ByteBuffer heapBytes() {
        ByteBuffer d = data;
        if (d != null && d.hasArray()) {
            return d;
        }
        ByteBuffer heap = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = floats;
        if (d != null) {
            heap.put(0, d, 0, bytes);
            form++;
        } else if (f != null) {
            heap.asFloatBuffer().put(f);
            floats = null;
            form++;
        }
        data = heap;
        return heap;
    }

    private ByteBuffer allocateDirect() {
        try {
            return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        } catch (OutOfMemoryError e) {
            throw new DeviceException("the mock card's memory lives off the Java heap in direct buffers, and the JVM"
                    + " cannot reserve " + bytes + " more bytes for " + purpose + " (" + e.getMessage()
                    + "); raise -XX:MaxDirectMemorySize (./spanker sets it to the machine's memory) or use fewer or"
                    + " smaller cards");
        }
    }

    /** The float32 values, converting from bytes if needed; a buffer whose size is not 4·n cannot be. */
    float[] floats() {
        float[] f = floats;
        return f != null ? f : materializeFloats();
    }

    private synchronized float[] materializeFloats() {
        if (floats == null) {
            if (bytes % Float.BYTES != 0) {
                throw new OpFailure(purpose + " has " + bytes + " bytes, not a whole number of float32 values");
            }
            float[] f;
            try {
                f = new float[bytes / Float.BYTES];
            } catch (OutOfMemoryError e) {
                throw new DeviceException("the mock card keeps float32 buffers (activations, KV caches) on the Java"
                        + " heap, which cannot hold " + purpose + " (" + bytes + " bytes); give the JVM more heap"
                        + " (-Xmx) or a shorter context");
            }
            ByteBuffer d = data;
            if (d != null) {
                d.asFloatBuffer().get(0, f);
                data = null;
                form++;
            }
            floats = f;
        }
        return floats;
    }

    /** An int32 at byte {@code offset}, in either form. */
    int int32(long offset) {
        float[] f = floats;
        if (f != null && offset % Float.BYTES == 0) {
            return Float.floatToRawIntBits(f[(int) (offset / Float.BYTES)]);
        }
        return bytes().getInt((int) offset);
    }

    /** Host-link write of {@code source}'s remaining bytes at {@code offset}; the source's position is kept. */
    void write(long offset, ByteBuffer source) {
        version.incrementAndGet();
        int length = source.remaining();
        float[] f = floats;
        if (f != null && offset % Float.BYTES == 0 && length % Float.BYTES == 0) {
            int at = (int) (offset / Float.BYTES);
            if (length <= SMALL_TRANSFER) {
                // a decode step's token and position, a hidden state: value by value, no view allocated per token
                for (int i = 0, p = source.position(); i < length / Float.BYTES; i++, p += Float.BYTES) {
                    f[at + i] = (float) LITTLE_ENDIAN_FLOAT.get(source, p);
                }
                return;
            }
            source.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f, at, length / Float.BYTES);
            return;
        }
        bytes().put((int) offset, source, source.position(), length);
    }

    /**
     * Host-link write of {@code count} floats at byte {@code offset}: one copy into a float32 buffer (a buffer not
     * used yet becomes one), else encoded little-endian into the bytes.
     */
    void writeFloats(long offset, float[] source, int from, int count) {
        version.incrementAndGet();
        float[] f = floatsForHost(offset);
        if (f != null) {
            System.arraycopy(source, from, f, (int) (offset / Float.BYTES), count);
            return;
        }
        bytes().slice((int) offset, count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                .put(source, from, count);
    }

    /** Host-link read of {@code count} floats from byte {@code offset}, the mirror of {@link #writeFloats}. */
    void readFloats(long offset, float[] target, int from, int count) {
        float[] f = floatsForHost(offset);
        if (f != null) {
            System.arraycopy(f, (int) (offset / Float.BYTES), target, from, count);
            return;
        }
        bytes().slice((int) offset, count * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                .get(target, from, count);
    }

    /** The float32 values a host transfer of floats at {@code offset} copies straight into, or null (bytes). */
    private float[] floatsForHost(long offset) {
        if (offset % Float.BYTES != 0) {
            return null;
        }
        float[] f = floats;
        if (f == null && data == null && bytes % Float.BYTES == 0) {
            // first use: floats are written as floats, and the ops read them so
            f = floats();
        }
        return f;
    }

    /** Host-link read into {@code target}'s remaining bytes from {@code offset}; the target's position is kept. */
    void read(long offset, ByteBuffer target) {
        int length = target.remaining();
        float[] f = floats;
        if (f != null && offset % Float.BYTES == 0 && length % Float.BYTES == 0) {
            int at = (int) (offset / Float.BYTES);
            if (length <= SMALL_TRANSFER) {
                for (int i = 0, p = target.position(); i < length / Float.BYTES; i++, p += Float.BYTES) {
                    LITTLE_ENDIAN_FLOAT.set(target, p, f[at + i]);
                }
                return;
            }
            target.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(f, at, length / Float.BYTES);
            return;
        }
        target.put(target.position(), bytes(), (int) offset, length);
    }
}
