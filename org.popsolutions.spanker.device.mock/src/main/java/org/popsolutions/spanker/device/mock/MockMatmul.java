package org.popsolutions.spanker.device.mock;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.compute.DeviceTrace;
import org.popsolutions.spanker.api.compute.DeviceTransaction;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;

/**
 * A mock card's int4 matmul: the host computes it, and the card records the original four transactions
 * (write A, write B, submit the descriptor, read OUT) for every matmul that moves data.
 */
final class MockMatmul implements MatmulInt4, DeviceTrace {
    private final java.util.function.Supplier<MatmulInt4> host;
    private final List<DeviceTransaction> trace = new ArrayList<>();

    MockMatmul(java.util.function.Supplier<MatmulInt4> host) {
        this.host = host;
    }

    @Override
    public void matmul(Int4Format format, long m, long k, long n, ByteBuffer a, ByteBuffer b, ByteBuffer out) {
        // The host applies the contract's checks in order; a refused call leaves no trace.
        host.get().matmul(format, m, k, n, a, b, out);
        if (m == 0 || n == 0) {
            return;
        }
        synchronized (trace) {
            trace.add(DeviceTransaction.write(DeviceTransaction.OPERAND_A_ADDRESS, MatmulInt4.operandBytes(format, m, k)));
            trace.add(DeviceTransaction.write(DeviceTransaction.OPERAND_B_ADDRESS, MatmulInt4.operandBytes(format, n, k)));
            trace.add(DeviceTransaction.submit(DeviceTransaction.DESCRIPTOR_ADDRESS, m, k, n));
            trace.add(DeviceTransaction.read(DeviceTransaction.OUTPUT_ADDRESS, MatmulInt4.outputBytes(m, n)));
        }
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
