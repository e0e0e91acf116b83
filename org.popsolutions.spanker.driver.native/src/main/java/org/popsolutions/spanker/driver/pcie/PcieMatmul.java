package org.popsolutions.spanker.driver.pcie;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.DriverException;
import org.popsolutions.spanker.api.NotImplementedException;
import org.popsolutions.spanker.api.compute.DeviceTrace;
import org.popsolutions.spanker.api.compute.DeviceTransaction;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.driver.jni.CardNode;
import org.popsolutions.spanker.driver.jni.DriverVersion;
import org.popsolutions.spanker.driver.jni.WorkCompletion;
import org.popsolutions.spanker.driver.jni.WorkItem;

/**
 * A PCIe card's int4 matmul through the kernel driver. With ABI 0.2 it is the original dispatch done for real: A and
 * B written to card DDR by pwrite, the descriptor submitted by ioctl, the completion awaited, OUT read by pread;
 * the trace records those transactions. With ABI 0.1 there is no work path, and it says so.
 */
public final class PcieMatmul implements MatmulInt4, DeviceTrace {
    /** Transfers are aligned to this many bytes when an operand outgrows the original's 64 KiB slots. */
    static final long ALIGNMENT = 64;

    private final Path node;
    private final DriverVersion version;
    private final List<DeviceTransaction> trace = new ArrayList<>();

    public PcieMatmul(Path node, DriverVersion version) {
        this.node = node;
        this.version = version;
    }

    @Override
    public void matmul(Int4Format format, long m, long k, long n, ByteBuffer a, ByteBuffer b, ByteBuffer out) {
        if (!version.hasWorkPath()) {
            throw new NotImplementedException("the spanker driver speaks ABI " + version + ", which has no work"
                    + " submission: a card matmul needs SPANKER_IOC_WORK_SUBMIT, SPANKER_IOC_WORK_WAIT and DMA by"
                    + " pwrite/pread on " + node + " (ABI 0.2, docs/driver-abi.md)");
        }
        WorkItem.Operation operation = operationOf(format);
        // The contract's checks, in its order, before any system call: a refused call moves no data.
        MatmulInt4.checkArguments(format, m, k, n, a, b, out);
        long aBytes = MatmulInt4.operandBytes(format, m, k);
        long bBytes = MatmulInt4.operandBytes(format, n, k);
        long outBytes = MatmulInt4.outputBytes(m, n);
        if (m == 0 || n == 0) {
            return;
        }
        if (aBytes > Integer.MAX_VALUE || bBytes > Integer.MAX_VALUE || outBytes > Integer.MAX_VALUE) {
            throw new BadDimsException("operands and OUT above 2 GiB are not supported by the driver binding");
        }
        // The original's addresses while the operands fit its 64 KiB slots, contiguous after them when they do not.
        long aAddress = DeviceTransaction.OPERAND_A_ADDRESS;
        long bAddress = Math.max(DeviceTransaction.OPERAND_B_ADDRESS, align(aAddress + aBytes));
        long outAddress = Math.max(DeviceTransaction.OUTPUT_ADDRESS, align(bAddress + bBytes));
        WorkItem item = new WorkItem(operation, m, k, n, aAddress, bAddress, outAddress);
        byte[] result = new byte[(int) outBytes];
        synchronized (trace) {
            try (CardNode card = CardNode.open(node)) {
                card.write(aAddress, bytesOf(a), 0, (int) aBytes);
                trace.add(DeviceTransaction.write(aAddress, aBytes));
                card.write(bAddress, bytesOf(b), 0, (int) bBytes);
                trace.add(DeviceTransaction.write(bAddress, bBytes));
                long ticket = card.submit(item);
                trace.add(DeviceTransaction.submit(DeviceTransaction.DESCRIPTOR_ADDRESS, m, k, n));
                WorkCompletion completion = card.await(ticket);
                checkCompletion(item, completion);
                card.read(outAddress, result, 0, result.length);
                trace.add(DeviceTransaction.read(outAddress, outBytes));
            }
        }
        out.slice().put(result);
    }

    private void checkCompletion(WorkItem item, WorkCompletion completion) {
        switch (completion.status()) {
            case WorkCompletion.STATUS_DONE -> {
                return;
            }
            case WorkCompletion.STATUS_BAD_DIMS -> throw new BadDimsException(node + " refused the matmul " + item.m()
                    + "x" + item.k() + "x" + item.n() + ": bad dimensions");
            case WorkCompletion.STATUS_OUT_OF_RANGE -> throw new DriverException(DriverException.Reason.WORK_FAILED,
                    "the matmul's operands or OUT (up to DDR 0x" + Long.toHexString(item.outAddress()) + " + "
                            + item.m() * item.n() * 4 + " bytes) do not fit the DDR of " + node);
            case WorkCompletion.STATUS_NO_MEMORY -> throw new DriverException(DriverException.Reason.WORK_FAILED,
                    node + " ran out of working memory for the matmul " + item.m() + "x" + item.k() + "x" + item.n());
            case WorkCompletion.STATUS_BAD_OP -> throw new NotImplementedException(node + " does not implement "
                    + item.operation());
            default -> throw new DriverException(DriverException.Reason.WORK_FAILED, node + " ended work item "
                    + completion.ticket() + " with status " + completion.status() + ", which ABI 0.2 does not define");
        }
    }

    private static WorkItem.Operation operationOf(Int4Format format) {
        if (format.equals(Int4Format.Q4_K)) {
            return WorkItem.Operation.MATMUL_Q4_K;
        }
        if (format.equals(Int4Format.Q4_0)) {
            return WorkItem.Operation.MATMUL_Q4_0;
        }
        throw new BadDimsException("unsupported int4 format " + format + "; supported: Q4_0, Q4_K");
    }

    private static long align(long address) {
        return (address + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** The buffer's bytes from position to limit, without moving its position. */
    private static byte[] bytesOf(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    @Override
    public List<DeviceTransaction> transactions() {
        synchronized (trace) {
            return List.copyOf(trace);
        }
    }

    @Override
    public void clear() {
        synchronized (trace) {
            trace.clear();
        }
    }
}
