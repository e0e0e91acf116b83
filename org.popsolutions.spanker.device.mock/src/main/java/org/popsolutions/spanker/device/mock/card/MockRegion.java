package org.popsolutions.spanker.device.mock.card;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One buffer of a mock card's DDR, on the Java heap. It keeps its bytes in whichever form its users need: float32
 * values (activations, KV caches: the ops read and write them as floats without decoding) or raw little-endian
 * bytes (weights, which the kernels read in place, and origin tags). A use of the other form converts it once;
 * buffers are used one way in practice, so that happens at most at the first use.
 */
final class MockRegion {
    final long handle;
    final int bytes;
    final String purpose;
    private ByteBuffer data;
    private float[] floats;
    /** Bumped whenever the form changes, so cached views of the bytes know to be taken again. */
    private int form;
    volatile boolean freed;

    MockRegion(long handle, int bytes, String purpose) {
        this.handle = handle;
        this.bytes = bytes;
        this.purpose = purpose;
        this.data = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    boolean isFloats() {
        return floats != null;
    }

    int form() {
        return form;
    }

    /** The bytes (absolute indexing from 0), converting from floats if needed. */
    ByteBuffer bytes() {
        if (data == null) {
            ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(floats);
            data = b;
            floats = null;
            form++;
        }
        return data;
    }

    /** The float32 values, converting from bytes if needed; a buffer whose size is not 4·n cannot be. */
    float[] floats() {
        if (floats == null) {
            if (bytes % Float.BYTES != 0) {
                throw new OpFailure(purpose + " has " + bytes + " bytes, not a whole number of float32 values");
            }
            float[] f = new float[bytes / Float.BYTES];
            data.asFloatBuffer().get(f);
            floats = f;
            data = null;
            form++;
        }
        return floats;
    }

    /** An int32 at byte {@code offset}, in either form. */
    int int32(long offset) {
        if (floats != null && offset % Float.BYTES == 0) {
            return Float.floatToRawIntBits(floats[(int) (offset / Float.BYTES)]);
        }
        return bytes().getInt((int) offset);
    }

    /** Host-link write of {@code source}'s remaining bytes at {@code offset}; the source's position is kept. */
    void write(long offset, ByteBuffer source) {
        int length = source.remaining();
        if (floats != null && offset % Float.BYTES == 0 && length % Float.BYTES == 0) {
            source.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .get(floats, (int) (offset / Float.BYTES), length / Float.BYTES);
            return;
        }
        bytes().put((int) offset, source, source.position(), length);
    }

    /** Host-link read into {@code target}'s remaining bytes from {@code offset}; the target's position is kept. */
    void read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (floats != null && offset % Float.BYTES == 0 && length % Float.BYTES == 0) {
            target.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .put(floats, (int) (offset / Float.BYTES), length / Float.BYTES);
            return;
        }
        target.put(target.position(), bytes(), (int) offset, length);
    }
}
