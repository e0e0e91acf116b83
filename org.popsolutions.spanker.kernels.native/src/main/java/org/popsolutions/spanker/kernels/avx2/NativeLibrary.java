package org.popsolutions.spanker.kernels.avx2;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

/**
 * Loads {@code libspankerkernels.so} once per class loader: through the bundle's {@code Bundle-NativeCode} in
 * OSGi, else (tests, benchmarks, or a bundle refreshed after another loader took the library) from a copy of the
 * class-path resource in a temporary file. Usable only on Linux x86-64 when the CPU has AVX2, FMA and F16C.
 */
public final class NativeLibrary {
    static final String NAME = "spankerkernels";
    static final String RESOURCE = "/lib/linux-x86_64/lib" + NAME + ".so";

    private static NativeKernels kernels;
    private static String unavailable;

    private NativeLibrary() {
    }

    /** The kernels, or empty (then {@link #unavailableReason()} says why). */
    public static synchronized Optional<NativeKernels> load() {
        if (kernels == null && unavailable == null) {
            try {
                kernels = tryLoad();
            } catch (LinkageError | IOException | SecurityException e) {
                // one line, and the first refusal too: after a refresh it is what says why a copy was needed
                StringBuilder reason = new StringBuilder("the native library did not load: ").append(e);
                for (Throwable before : e.getSuppressed()) {
                    reason.append("; before that: ").append(before);
                }
                unavailable = reason.toString().replace('\n', ' ');
            }
        }
        return Optional.ofNullable(kernels);
    }

    /** Why {@link #load()} is empty; empty when it is not. */
    public static synchronized Optional<String> unavailableReason() {
        load();
        return Optional.ofNullable(unavailable);
    }

    private static NativeKernels tryLoad() throws IOException {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            unavailable = "built for linux x86-64 only, this is " + os + " " + arch;
            return null;
        }
        try {
            System.loadLibrary(NAME);
        } catch (UnsatisfiedLinkError notOnThePath) {
            // not on the path, or (a refreshed bundle) bound to an older class loader: a copy of our own
            try {
                System.load(extract().toString());
            } catch (UnsatisfiedLinkError | IOException copyFailed) {
                copyFailed.addSuppressed(notOnThePath);
                throw copyFailed;
            }
        }
        if (!NativeKernels.cpuSupported()) {
            unavailable = "this CPU lacks AVX2, FMA or F16C";
            return null;
        }
        return new NativeKernels();
    }

    private static Path extract() throws IOException {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException(RESOURCE + " is not in the class path");
            }
            Path file = Files.createTempFile("spanker-kernels-", ".so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        }
    }
}
