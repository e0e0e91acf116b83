package org.popsolutions.spanker.driver.jni;

/** The errno values the binding gives a meaning to (Linux numbers, the same on x86-64 and aarch64). */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EACCES = 13;
    static final int ENODEV = 19;
    static final int ENOTDIR = 20;
    static final int EINVAL = 22;
    static final int ENOTTY = 25;
    static final int ENOSPC = 28;

    private Errno() {
    }

    /** "ENOTTY (25, Inappropriate ioctl for device)". */
    static String describe(int errno) {
        String name = Syscalls.errnoName(errno);
        return (name == null ? "errno" : name) + " (" + errno + ", " + Syscalls.errnoText(errno) + ")";
    }
}
