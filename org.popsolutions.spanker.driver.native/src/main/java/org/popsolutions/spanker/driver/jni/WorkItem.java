package org.popsolutions.spanker.driver.jni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One matmul descriptor ({@code struct spanker_work_submit}, ABI 0.2): OUT (m×n float32 at {@code outAddress}) =
 * A (m rows at {@code aAddress}) · Bᵀ (n rows at {@code bAddress}), k values per row, all addresses in card DDR.
 */
public record WorkItem(Operation operation, long m, long k, long n, long aAddress, long bAddress, long outAddress) {
    /** The card operations ABI 0.2 defines, with their numbers on the wire. */
    public enum Operation {
        MATMUL_Q4_K(Abi.OP_MATMUL_Q4_K),
        MATMUL_Q4_0(Abi.OP_MATMUL_Q4_0);

        final int code;

        Operation(int code) {
            this.code = code;
        }
    }

    byte[] encode() {
        ByteBuffer bytes = ByteBuffer.allocate(Abi.WORK_SUBMIT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(operation.code).putInt(0).putLong(m).putLong(k).putLong(n).putLong(aAddress).putLong(bAddress)
                .putLong(outAddress).putLong(0);
        return bytes.array();
    }
}
