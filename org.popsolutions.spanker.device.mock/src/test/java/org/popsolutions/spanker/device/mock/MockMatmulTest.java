package org.popsolutions.spanker.device.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.OutputTooSmallException;
import org.popsolutions.spanker.api.compute.DeviceTransaction;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;

class MockMatmulTest {

    /** Applies the contract's checks like the host implementation and computes nothing. */
    static final MatmulInt4 CHECKING_HOST = (format, m, k, n, a, b, out) -> {
        if (k == 0 || k % format.blockValues() != 0) {
            throw new BadDimsException("k");
        }
        if (a.remaining() != MatmulInt4.operandBytes(format, m, k) || b.remaining() != MatmulInt4.operandBytes(format, n, k)) {
            throw new BadDimsException("operands");
        }
        if (out.remaining() < MatmulInt4.outputBytes(m, n)) {
            throw new OutputTooSmallException(out.remaining(), MatmulInt4.outputBytes(m, n));
        }
    };

    @Test
    void aQ4KMatmulRecordsTheOriginalFourTransactions() {
        MockMatmul card = new MockMatmul(() -> CHECKING_HOST);
        long m = 2;
        long k = 512;
        long n = 3;
        card.matmul(Int4Format.Q4_K, m, k, n, ByteBuffer.allocate(2 * 2 * 144), ByteBuffer.allocate(3 * 2 * 144),
                ByteBuffer.allocate(2 * 3 * 4));
        assertEquals(List.of(DeviceTransaction.write(0x10000, 576), DeviceTransaction.write(0x20000, 864),
                DeviceTransaction.submit(0x4000, 2, 512, 3), DeviceTransaction.read(0x30000, 24)), card.transactions());
        card.clear();
        assertEquals(List.of(), card.transactions());
    }

    @Test
    void refusedCallsAndEmptyShapesLeaveNoTrace() {
        MockMatmul card = new MockMatmul(() -> CHECKING_HOST);
        assertThrows(BadDimsException.class, () -> card.matmul(Int4Format.Q4_K, 1, 100, 1, ByteBuffer.allocate(0),
                ByteBuffer.allocate(0), ByteBuffer.allocate(4)));
        assertThrows(OutputTooSmallException.class, () -> card.matmul(Int4Format.Q4_K, 1, 256, 1,
                ByteBuffer.allocate(144), ByteBuffer.allocate(144), ByteBuffer.allocate(3)));
        card.matmul(Int4Format.Q4_K, 0, 256, 5, ByteBuffer.allocate(0), ByteBuffer.allocate(5 * 144),
                ByteBuffer.allocate(0));
        assertEquals(List.of(), card.transactions());
    }
}
