package org.popsolutions.spanker.driver.jni;

import org.popsolutions.spanker.api.DriverException;

/**
 * The system calls the binding makes, implemented in {@code spanker_jni.c}. Each returns its result or −errno and
 * throws nothing for a failed call; the C side checks every length and offset, so no argument can crash the JVM.
 * Callers go through {@link #require()} first, which turns a library that could not be loaded into a
 * {@link DriverException} instead of an {@link UnsatisfiedLinkError}.
 */
final class Syscalls {
    static final String LIBRARY = "spankerdriver";
    /** Outside OSGi (unit tests) there is no Bundle-NativeCode: this property names the library file instead. */
    static final String LIBRARY_PROPERTY = "spanker.driver.library";

    private static final Throwable LOAD_FAILURE = load();

    private Syscalls() {
    }

    private static Throwable load() {
        try {
            String file = System.getProperty(LIBRARY_PROPERTY);
            if (file != null && !file.isBlank()) {
                System.load(file);
            } else {
                System.loadLibrary(LIBRARY);
            }
            return null;
        } catch (UnsatisfiedLinkError | SecurityException e) {
            return e;
        }
    }

    static void require() {
        if (LOAD_FAILURE != null) {
            throw new DriverException(DriverException.Reason.NATIVE_LIBRARY, "the native driver binding lib" + LIBRARY
                    + ".so is not available for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
                    + " (" + LOAD_FAILURE.getMessage() + "); the bundle carries it for linux x86-64 and aarch64 only",
                    LOAD_FAILURE);
        }
    }

    static native int open(String path);

    static native int close(int fd);

    /** An ioctl without payload; the nanoseconds it took, or −errno. */
    static native long ioctlTimed(int fd, int command);

    /** An ioctl on {@code buffer} (exactly the command's size), copied in before and back after; result or −errno. */
    static native int ioctlBuffer(int fd, int command, byte[] buffer);

    static native long pwrite(int fd, byte[] data, int offset, int length, long position);

    static native long pread(int fd, byte[] data, int offset, int length, long position);

    /** The symbolic name of an errno ("ENOTTY"), or null if the C library does not know it. */
    static native String errnoName(int errno);

    static native String errnoText(int errno);
}
