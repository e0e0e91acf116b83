package org.popsolutions.spanker.api;

import java.util.Objects;

/**
 * The kernel driver (or whatever answers at its device nodes) refused or answered wrongly. A missing node is not
 * one of these: that is {@link NoSailsException}. The {@link #reason()} tells a script which case it is; the
 * message names the node and what to do.
 */
public final class DriverException extends SpankerException {
    private static final long serialVersionUID = 1L;

    /** What went wrong between userspace and the driver. */
    public enum Reason {
        /** The node exists but this user may not open it (the message names its owner and mode). */
        PERMISSION_DENIED,
        /** The node answered ENOTTY: another driver, or a device that does not speak the Spanker magic. */
        NOT_A_SPANKER_DEVICE,
        /** The version the driver returned is short or has a non-zero reserved field. */
        MALFORMED_VERSION,
        /** The driver's major ABI version differs from this userspace's. */
        VERSION_MISMATCH,
        /** A system call failed with an errno the ABI does not give a meaning (named with its number). */
        UNEXPECTED_ERRNO,
        /** The native binding could not be loaded on this operating system or processor. */
        NATIVE_LIBRARY,
        /** The card reported a failed work item. */
        WORK_FAILED
    }

    private final Reason reason;

    public DriverException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public DriverException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    @Override
    public ErrorKind kind() {
        return ErrorKind.DRIVER;
    }
}
