/*
 * The JNI half of org.popsolutions.spanker.driver.jni.Syscalls: thin, checked wrappers around open, close,
 * ioctl, pread and pwrite. Every call returns its result or -errno; nothing here throws except on a null
 * argument (NullPointerException) and nothing trusts a length or offset it did not check itself, so a bad
 * argument from Java can never reach the kernel as a wild pointer or crash the JVM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "spanker_abi.h"

/* The largest ioctl argument the binding passes (_IOC_SIZE is 14 bits); the ABI's largest is 64 bytes. */
#define MAX_IOCTL_BYTES 256
/* DMA goes through a bounce buffer of at most this many bytes per system call. */
#define MAX_TRANSFER_BYTES (1 << 20)

static void throw_npe(JNIEnv *env, const char *what) {
    jclass npe = (*env)->FindClass(env, "java/lang/NullPointerException");
    if (npe != NULL) {
        (*env)->ThrowNew(env, npe, what);
    }
}

static int64_t monotonic_nanos(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000LL + now.tv_nsec;
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_open(JNIEnv *env, jclass cls, jstring path) {
    (void) cls;
    if (path == NULL) {
        throw_npe(env, "path");
        return -EINVAL;
    }
    const char *chars = (*env)->GetStringUTFChars(env, path, NULL);
    if (chars == NULL) {
        return -ENOMEM; /* OutOfMemoryError is pending */
    }
    int fd;
    do {
        fd = open(chars, O_RDWR | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    int saved = errno;
    (*env)->ReleaseStringUTFChars(env, path, chars);
    return fd >= 0 ? fd : -saved;
}

JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_close(JNIEnv *env, jclass cls, jint fd) {
    (void) env;
    (void) cls;
    if (fd < 0) {
        return -EBADF;
    }
    /* Linux releases the descriptor even when close reports EINTR: never retry. */
    return close(fd) == 0 ? 0 : -errno;
}

/* An ioctl without payload; returns the nanoseconds it took, or -errno. */
JNIEXPORT jlong JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_ioctlTimed(JNIEnv *env, jclass cls, jint fd,
                                                                                      jint cmd) {
    (void) env;
    (void) cls;
    if (_IOC_SIZE((unsigned) cmd) != 0) {
        return -EINVAL; /* a command with a payload needs ioctlBuffer */
    }
    int64_t start, elapsed;
    int result;
    do {
        start = monotonic_nanos();
        result = ioctl(fd, (unsigned long) (unsigned) cmd, 0);
        elapsed = monotonic_nanos() - start;
    } while (result < 0 && errno == EINTR);
    if (result < 0) {
        return -errno;
    }
    return elapsed;
}

/*
 * An ioctl whose argument is buffer (exactly _IOC_SIZE(cmd) bytes): copied in before the call and back after it,
 * so bytes the driver did not write keep what Java put there. Returns the ioctl's result, or -errno.
 */
JNIEXPORT jint JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_ioctlBuffer(JNIEnv *env, jclass cls, jint fd,
                                                                                      jint cmd, jbyteArray buffer) {
    (void) cls;
    if (buffer == NULL) {
        throw_npe(env, "buffer");
        return -EINVAL;
    }
    unsigned size = _IOC_SIZE((unsigned) cmd);
    jsize length = (*env)->GetArrayLength(env, buffer);
    if (size == 0 || size > MAX_IOCTL_BYTES || (jsize) size != length) {
        return -EINVAL;
    }
    unsigned char argument[MAX_IOCTL_BYTES];
    (*env)->GetByteArrayRegion(env, buffer, 0, length, (jbyte *) argument);
    int result;
    do {
        /* an interrupted call copied nothing back: retry it with the same argument */
        result = ioctl(fd, (unsigned long) (unsigned) cmd, argument);
    } while (result < 0 && errno == EINTR);
    if (result < 0) {
        return -errno;
    }
    (*env)->SetByteArrayRegion(env, buffer, 0, length, (const jbyte *) argument);
    return result;
}

static int checked_range(JNIEnv *env, jbyteArray array, jint offset, jint length, jlong position) {
    if (array == NULL) {
        throw_npe(env, "array");
        return 0;
    }
    jsize size = (*env)->GetArrayLength(env, array);
    return offset >= 0 && length >= 0 && offset <= size && length <= size - offset && position >= 0;
}

/*
 * Moves length bytes between array (from offset) and the file at position through a bounce buffer, writing when
 * to_file is set; returns the bytes moved (short only at the end of the file), or -errno.
 */
static jlong transfer(JNIEnv *env, jint fd, jbyteArray array, jint offset, jint length, jlong position, int to_file) {
    if (!checked_range(env, array, offset, length, position)) {
        return -EINVAL;
    }
    size_t chunk = length < MAX_TRANSFER_BYTES ? (size_t) length : MAX_TRANSFER_BYTES;
    unsigned char *bounce = malloc(chunk == 0 ? 1 : chunk);
    if (bounce == NULL) {
        return -ENOMEM;
    }
    jlong done = 0;
    while (done < length) {
        size_t step = (size_t) (length - done) < chunk ? (size_t) (length - done) : chunk;
        if (to_file) {
            (*env)->GetByteArrayRegion(env, array, offset + (jint) done, (jint) step, (jbyte *) bounce);
        }
        ssize_t moved = to_file ? pwrite(fd, bounce, step, (off_t) (position + done))
                                : pread(fd, bounce, step, (off_t) (position + done));
        if (moved < 0) {
            if (errno == EINTR) {
                continue;
            }
            int saved = errno;
            free(bounce);
            return -saved;
        }
        if (moved == 0) {
            break;
        }
        if (!to_file) {
            (*env)->SetByteArrayRegion(env, array, offset + (jint) done, (jint) moved, (const jbyte *) bounce);
        }
        done += moved;
    }
    free(bounce);
    return done;
}

JNIEXPORT jlong JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_pwrite(JNIEnv *env, jclass cls, jint fd,
                                                                                  jbyteArray array, jint offset,
                                                                                  jint length, jlong position) {
    (void) cls;
    return transfer(env, fd, array, offset, length, position, 1);
}

JNIEXPORT jlong JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_pread(JNIEnv *env, jclass cls, jint fd,
                                                                                 jbyteArray array, jint offset,
                                                                                 jint length, jlong position) {
    (void) cls;
    return transfer(env, fd, array, offset, length, position, 0);
}

/* errno's symbolic name ("ENOTTY"), or null when the C library does not know the number. */
JNIEXPORT jstring JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_errnoName(JNIEnv *env, jclass cls,
                                                                                       jint number) {
    (void) cls;
    const char *name = strerrorname_np(number);
    return name == NULL ? NULL : (*env)->NewStringUTF(env, name);
}

/* The C library's description of errno ("Inappropriate ioctl for device"). */
JNIEXPORT jstring JNICALL Java_org_popsolutions_spanker_driver_jni_Syscalls_errnoText(JNIEnv *env, jclass cls,
                                                                                       jint number) {
    (void) cls;
    const char *text = strerrordesc_np(number);
    return (*env)->NewStringUTF(env, text == NULL ? "unknown error" : text);
}
