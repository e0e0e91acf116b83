package org.popsolutions.spanker.driver.jni;

import java.nio.file.Path;

/** A driver node opened read-write: its path and file descriptor, closed once. */
abstract class OpenNode implements AutoCloseable {
    private final Path node;
    private int fd;

    OpenNode(Path node, int fd) {
        this.node = node;
        this.fd = fd;
    }

    /** Opens {@code node} read-write, or throws the named error for why not. */
    static int openOrThrow(Path node) {
        Syscalls.require();
        int fd = Syscalls.open(node.toString());
        if (fd < 0) {
            throw DriverErrors.openFailed(node, -fd);
        }
        return fd;
    }

    public Path node() {
        return node;
    }

    int fd() {
        if (fd < 0) {
            throw new IllegalStateException(node + " is closed");
        }
        return fd;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            int descriptor = fd;
            fd = -1;
            Syscalls.close(descriptor);
        }
    }
}
