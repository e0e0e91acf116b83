package org.popsolutions.spanker.driver.jni;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import org.popsolutions.spanker.api.DriverException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.SpankerException;

/** Turns a failed system call on a driver node into the project's named errors, each saying what to do. */
final class DriverErrors {
    private DriverErrors() {
    }

    /** open(2) on {@code node} failed with {@code errno}. */
    static SpankerException openFailed(Path node, int errno) {
        return switch (errno) {
            case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO, Errno.ENOTDIR -> Files.isDirectory(node.getParent())
                    ? new NoSailsException("no " + node + ": the spanker kernel driver is not loaded or no card is"
                            + " present (load it with modprobe spanker, or point --dev at the driver's directory)")
                    : new NoSailsException("no " + node + ": " + node.getParent() + (Files.exists(node.getParent())
                            ? " is not a directory" : " does not exist") + " (point --dev at the driver's directory)");
            case Errno.EACCES, Errno.EPERM -> permissionDenied(node);
            default -> unexpected("open", node, errno);
        };
    }

    /** An ioctl on {@code node} failed with {@code errno}. */
    static SpankerException ioctlFailed(String command, Path node, int errno) {
        if (errno == Errno.ENOTTY) {
            return new DriverException(DriverException.Reason.NOT_A_SPANKER_DEVICE, node + " is not a Spanker device: "
                    + command + " answered ENOTTY (another driver, or one without the 0xE3 ioctl magic); point --dev"
                    + " at the spanker driver's nodes");
        }
        return unexpected(command, node, errno);
    }

    static DriverException unexpected(String call, Path node, int errno) {
        return new DriverException(DriverException.Reason.UNEXPECTED_ERRNO, call + " on " + node + " failed with "
                + Errno.describe(errno) + ", which the driver ABI does not define; check the kernel log (dmesg)");
    }

    private static DriverException permissionDenied(Path node) {
        String owner;
        try {
            PosixFileAttributes attributes = Files.readAttributes(node, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            owner = "owner " + attributes.owner().getName() + ":" + attributes.group().getName() + ", mode "
                    + PosixFilePermissions.toString(attributes.permissions());
        } catch (IOException | UnsupportedOperationException e) {
            owner = "owner and mode unreadable: " + e.getMessage();
        }
        return new DriverException(DriverException.Reason.PERMISSION_DENIED, "permission denied opening " + node
                + " read-write (" + owner + "); run as a user the node's owner or group allows, or have a udev rule"
                + " grant it");
    }
}
