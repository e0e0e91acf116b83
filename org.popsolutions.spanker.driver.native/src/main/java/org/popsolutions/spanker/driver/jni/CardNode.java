package org.popsolutions.spanker.driver.jni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.popsolutions.spanker.api.DriverException;

/**
 * One card node ({@code DIR/spankerN}) opened read-write, for ABI 0.2's work path: DMA to and from card DDR by
 * pwrite/pread at DDR offsets, SPANKER_IOC_WORK_SUBMIT and SPANKER_IOC_WORK_WAIT. Not thread-safe.
 */
public final class CardNode extends OpenNode {
    private CardNode(Path node, int fd) {
        super(node, fd);
    }

    public static CardNode open(Path node) {
        return new CardNode(node, openOrThrow(node));
    }

    /** Writes {@code length} bytes of {@code data} to card DDR at {@code address}, all of them or an error. */
    public void write(long address, byte[] data, int offset, int length) {
        long written = Syscalls.pwrite(fd(), data, offset, length, address);
        if (written == -Errno.ENOSPC || (written >= 0 && written < length)) {
            throw new DriverException(DriverException.Reason.WORK_FAILED, length + " bytes at DDR 0x"
                    + Long.toHexString(address) + " do not fit the DDR of " + node() + " (written: "
                    + Math.max(0, written) + ")");
        }
        if (written < 0) {
            throw DriverErrors.unexpected("pwrite", node(), (int) -written);
        }
    }

    /** Reads {@code length} bytes of card DDR at {@code address} into {@code data}, all of them or an error. */
    public void read(long address, byte[] data, int offset, int length) {
        long read = Syscalls.pread(fd(), data, offset, length, address);
        if (read < 0) {
            throw DriverErrors.unexpected("pread", node(), (int) -read);
        }
        if (read < length) {
            throw new DriverException(DriverException.Reason.WORK_FAILED, length + " bytes at DDR 0x"
                    + Long.toHexString(address) + " run past the DDR of " + node() + " (read: " + read + ")");
        }
    }

    /** Queues {@code item} on the card; returns its ticket. */
    public long submit(WorkItem item) {
        byte[] raw = item.encode();
        int result = Syscalls.ioctlBuffer(fd(), Abi.IOC_WORK_SUBMIT, raw);
        if (result < 0) {
            throw DriverErrors.ioctlFailed("SPANKER_IOC_WORK_SUBMIT", node(), -result);
        }
        long ticket = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(56);
        if (ticket <= 0) {
            throw new DriverException(DriverException.Reason.WORK_FAILED, "SPANKER_IOC_WORK_SUBMIT on " + node()
                    + " returned ticket " + ticket + "; the ABI numbers work items from 1");
        }
        return ticket;
    }

    /** Waits until the work item {@code ticket} has ended and says how. */
    public WorkCompletion await(long ticket) {
        ByteBuffer raw = ByteBuffer.allocate(Abi.WORK_WAIT_BYTES).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ticket);
        int result = Syscalls.ioctlBuffer(fd(), Abi.IOC_WORK_WAIT, raw.array());
        if (result < 0) {
            throw DriverErrors.ioctlFailed("SPANKER_IOC_WORK_WAIT", node(), -result);
        }
        return new WorkCompletion(raw.getLong(0), raw.getInt(8), raw.getLong(16));
    }
}
