package org.popsolutions.spanker.protocol;

import java.nio.ByteBuffer;

/**
 * Where a channel {@link FrameReader} puts a WRITE's data: straight into its destination (a card's memory) instead of
 * the reader's staging buffer, so the kernel's copy out of the socket is the only copy. A frame's CRC can be checked
 * only once its last byte has arrived, so until then the destination holds bytes nobody has checked: the landing
 * keeps what it needs to put the destination back as it was ({@link Target#saving}), and the reader asks it to
 * ({@link Target#undo}) whenever the chunk fails: a CRC mismatch, a stream that ends inside it, an I/O error. A chunk
 * that fails thus leaves no trace in the destination, as a staged one never reached it.
 */
public interface WriteLanding {
    /**
     * The destination of a WRITE chunk whose fields have passed their checks, called before any of its data is read.
     *
     * @param length the chunk's data bytes
     * @return the place to read the data into, or null to read it into the reader's staging buffer as without a
     *         landing (a handle or range the card refuses: the refusal is answered once the frame has passed its CRC)
     */
    Target open(long handle, long offset, int length);

    /** One chunk's destination while its data arrives. */
    interface Target {
        /** The destination: exactly the chunk's length, from position 0 (the reader reads it through a duplicate). */
        ByteBuffer bytes();

        /** Bytes [from, to) of the destination are about to be overwritten: keep what they hold if undo needs it. */
        void saving(int from, int to);

        /** The chunk failed after bytes [0, landed) of the destination were overwritten: put them back. */
        void undo(int landed);
    }
}
