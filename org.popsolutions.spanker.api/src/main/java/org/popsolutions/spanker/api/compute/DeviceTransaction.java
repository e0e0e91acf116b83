package org.popsolutions.spanker.api.compute;

/**
 * One bus transaction a card performed, as the original mock recorded them: a write or read of
 * {@code bytes} at {@code address} in card memory, or a compute submission of an (m, k, n) descriptor.
 */
public record DeviceTransaction(Kind kind, long address, long bytes, long m, long k, long n) {
    public enum Kind {
        WRITE,
        COMPUTE_SUBMIT,
        READ
    }

    /** Card-memory addresses of the original's matmul dispatch. */
    public static final long OPERAND_A_ADDRESS = 0x10000;
    public static final long OPERAND_B_ADDRESS = 0x20000;
    public static final long DESCRIPTOR_ADDRESS = 0x4000;
    public static final long OUTPUT_ADDRESS = 0x30000;

    public static DeviceTransaction write(long address, long bytes) {
        return new DeviceTransaction(Kind.WRITE, address, bytes, 0, 0, 0);
    }

    public static DeviceTransaction read(long address, long bytes) {
        return new DeviceTransaction(Kind.READ, address, bytes, 0, 0, 0);
    }

    public static DeviceTransaction submit(long address, long m, long k, long n) {
        return new DeviceTransaction(Kind.COMPUTE_SUBMIT, address, 0, m, k, n);
    }
}
