package org.popsolutions.spanker.driver.jni;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.popsolutions.spanker.api.DriverException;

/**
 * The driver's control node ({@code DIR/spankerctl}) opened read-write: ping and version (ABI 0.1). Not thread-safe;
 * close it when done.
 */
public final class ControlDevice extends OpenNode {
    /** What the binding puts in the version buffer before the ioctl: bytes still holding it were never written. */
    private static final byte UNWRITTEN = (byte) 0xA5;

    private ControlDevice(Path node, int fd) {
        super(node, fd);
    }

    /** Opens {@code directory/spankerctl}; a missing node is NoSails, a refused one names its owner and mode. */
    public static ControlDevice open(Path directory) {
        Path node = directory.resolve(Abi.CONTROL_NODE);
        return new ControlDevice(node, openOrThrow(node));
    }

    /** SPANKER_IOC_PING; returns the round trip (the ioctl system call) in nanoseconds. */
    public long ping() {
        long result = Syscalls.ioctlTimed(fd(), Abi.IOC_PING);
        if (result < 0) {
            throw DriverErrors.ioctlFailed("SPANKER_IOC_PING", node(), (int) -result);
        }
        return result;
    }

    /**
     * SPANKER_IOC_GET_VERSION, checked: all 8 bytes written, reserved = 0, and the same major as this userspace.
     */
    public DriverVersion version() {
        byte[] raw = new byte[Abi.VERSION_BYTES];
        java.util.Arrays.fill(raw, UNWRITTEN);
        int result = Syscalls.ioctlBuffer(fd(), Abi.IOC_GET_VERSION, raw);
        if (result < 0) {
            throw DriverErrors.ioctlFailed("SPANKER_IOC_GET_VERSION", node(), -result);
        }
        return checked(node(), raw);
    }

    /** Decodes and checks a {@code struct spanker_version} the driver filled in over {@link #UNWRITTEN} bytes. */
    static DriverVersion checked(Path node, byte[] raw) {
        ByteBuffer bytes = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int reserved = Short.toUnsignedInt(bytes.getShort(6));
        if (raw[6] == UNWRITTEN && raw[7] == UNWRITTEN) {
            int written = raw.length;
            while (written > 0 && raw[written - 1] == UNWRITTEN) {
                written--;
            }
            throw new DriverException(DriverException.Reason.MALFORMED_VERSION, "short version from " + node
                    + ": the driver filled " + written + " of the 8 bytes of struct spanker_version; it does not"
                    + " implement ABI " + DriverVersion.USERSPACE.major() + ".x (update the spanker driver)");
        }
        if (reserved != 0) {
            throw new DriverException(DriverException.Reason.MALFORMED_VERSION, "malformed version from " + node
                    + ": reserved field is 0x" + Integer.toHexString(reserved) + ", the ABI requires 0 (update the"
                    + " spanker driver)");
        }
        DriverVersion version = new DriverVersion(Short.toUnsignedInt(bytes.getShort(0)),
                Short.toUnsignedInt(bytes.getShort(2)), Short.toUnsignedInt(bytes.getShort(4)));
        if (version.major() != DriverVersion.USERSPACE.major()) {
            throw new DriverException(DriverException.Reason.VERSION_MISMATCH, "the spanker driver at " + node
                    + " speaks ABI " + version + ", this userspace speaks ABI " + DriverVersion.USERSPACE
                    + ": major versions differ, refusing it (install a driver and userspace of the same major)");
        }
        return version;
    }
}
