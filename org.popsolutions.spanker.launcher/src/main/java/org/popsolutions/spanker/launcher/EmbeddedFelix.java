package org.popsolutions.spanker.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.popsolutions.spanker.api.console.ConsoleCommand;

/**
 * An Apache Felix framework that lives for one command: fresh storage in a temporary directory (deleted on
 * close, and by a shutdown hook if the JVM is interrupted), every bundle of one directory installed and started.
 *
 * <p>The api packages are not installed as a bundle: the system bundle exports them, with the versions of the api
 * jar's own Export-Package header, from the api jar on the launcher's class path. The launcher and the bundles
 * then share one {@code ConsoleCommand}, {@code CommandResult} and {@code SpankerException} class, so the launcher
 * calls commands and catches their errors with plain typed Java instead of reflection (a renamed method is a
 * compile error here, not a run-time surprise). The console-support helpers it prints with ({@code TextTables},
 * {@code Json}, {@code Help}) come from the console jar on the class path too; they only handle api types, so it
 * does not matter that the installed console bundle has its own copy of them.
 */
final class EmbeddedFelix implements AutoCloseable {
    private static final String INCUBATOR_VECTOR = "jdk.incubator.vector";
    private static final long STOP_TIMEOUT_MILLIS = 5_000;

    private final Framework framework;
    private final Path storage;
    private final Thread cleanup;
    private final List<String> startFailures;

    private EmbeddedFelix(Framework framework, Path storage, Thread cleanup, List<String> startFailures) {
        this.framework = framework;
        this.storage = storage;
        this.cleanup = cleanup;
        this.startFailures = startFailures;
    }

    /**
     * Starts the framework and every bundle in {@code bundleDirectory}.
     *
     * @param diagnostics where framework and SCR messages and bundle start failures go; {@code null} silences them
     */
    static EmbeddedFelix start(Path bundleDirectory, PrintStream diagnostics) throws IOException, BundleException {
        return start(bundleDirectory, diagnostics, Map.of(), Set.of());
    }

    /**
     * As {@link #start(Path, PrintStream)}, with extra framework properties and without the bundle jars named in
     * {@code leaveOut} (file names without {@code .jar}): how {@code --device sails} leaves the mock cards out.
     */
    static EmbeddedFelix start(Path bundleDirectory, PrintStream diagnostics, Map<String, String> properties,
            Set<String> leaveOut) throws IOException, BundleException {
        List<Path> bundleJars = bundleJars(bundleDirectory).stream()
                .filter(jar -> !leaveOut.contains(jar.getFileName().toString().replaceFirst("\\.jar$", ""))).toList();
        Path storage = Files.createTempDirectory("spanker-felix-");
        Thread cleanup = new Thread(() -> deleteRecursively(storage), "spanker-felix-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);

        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the launcher's class path"))
                .newFramework(configuration(storage, diagnostics != null, properties));
        List<String> failures = new ArrayList<>();
        EmbeddedFelix felix = new EmbeddedFelix(framework, storage, cleanup, failures);
        try {
            framework.init();
            framework.start();
            felix.installAndStart(bundleJars, diagnostics);
        } catch (BundleException | RuntimeException e) {
            felix.close();
            throw e;
        }
        return felix;
    }

    BundleContext context() {
        return framework.getBundleContext();
    }

    /** One line per bundle that did not start (empty when all did). */
    List<String> startFailures() {
        return List.copyOf(startFailures);
    }

    @Override
    public void close() {
        try {
            framework.stop();
            framework.waitForStop(STOP_TIMEOUT_MILLIS);
        } catch (BundleException e) {
            // Stopping is best effort: the process ends right after, and the storage goes below either way.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            deleteRecursively(storage);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook runs anyway; nothing left to undo.
            }
        }
    }

    private static Map<String, String> configuration(Path storage, boolean verbose, Map<String, String> properties)
            throws IOException {
        Map<String, String> config = new HashMap<>(properties);
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, systemPackagesExtra());
        // Felix logs only at or below this level (1 = error); 0 turns its logger off.
        config.put("felix.log.level", verbose ? "2" : "0");
        // Without a LogService, SCR prints to stdout/stderr; ds.log.enabled=false turns that off.
        config.put("ds.log.enabled", Boolean.toString(verbose));
        config.put("ds.loglevel", "warn");
        return config;
    }

    /** The api packages (from the api jar's own manifest), and the Vector API when this JVM has it. */
    private static final String JDK_HTTP_SERVER = "com.sun.net.httpserver";

    private static String systemPackagesExtra() throws IOException {
        String apiExports = apiManifest().getMainAttributes().getValue(Constants.EXPORT_PACKAGE);
        if (apiExports == null || apiExports.isBlank()) {
            throw new IllegalStateException("the Spanker api jar on the class path has no Export-Package header");
        }
        boolean vectorPresent = ModuleLayer.boot().findModule(INCUBATOR_VECTOR).isPresent();
        // the JDK's HTTP server carries 'serve' in the launcher (Karaf uses its HTTP whiteboard instead)
        String exports = apiExports + "," + JDK_HTTP_SERVER;
        return vectorPresent ? exports + "," + INCUBATOR_VECTOR : exports;
    }

    private static Manifest apiManifest() throws IOException {
        URL location = ConsoleCommand.class.getProtectionDomain().getCodeSource().getLocation();
        Path path;
        try {
            path = Path.of(location.toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the Spanker api jar at " + location, e);
        }
        if (Files.isDirectory(path)) {
            try (InputStream in = Files.newInputStream(path.resolve(JarFile.MANIFEST_NAME))) {
                return new Manifest(in);
            }
        }
        try (JarFile jar = new JarFile(path.toFile())) {
            Manifest manifest = jar.getManifest();
            if (manifest == null) {
                throw new IOException("the Spanker api jar " + path + " has no manifest");
            }
            return manifest;
        }
    }

    private static List<Path> bundleJars(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new IOException("bundle directory " + directory + " does not exist (build with ./mvnw install)");
        }
        try (Stream<Path> files = Files.list(directory)) {
            List<Path> jars = files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
            if (jars.isEmpty()) {
                throw new IOException("bundle directory " + directory + " holds no bundles (build with ./mvnw install)");
            }
            return jars;
        }
    }

    private void installAndStart(List<Path> jars, PrintStream diagnostics) throws BundleException {
        BundleContext context = context();
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars) {
            // reference: makes Felix read the jar in place instead of copying it into the storage.
            installed.add(context.installBundle("reference:" + jar.toUri()));
        }
        // Infrastructure (SCR, Config Admin, libraries) before Spanker's own bundles, so that components see their
        // configuration at first activation instead of being reconfigured right after.
        installed.sort(Comparator.comparing(EmbeddedFelix::isSpankerBundle));
        for (Bundle bundle : installed) {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) != null) {
                continue;
            }
            try {
                bundle.start();
            } catch (BundleException | RuntimeException e) {
                String failure = bundle.getSymbolicName() + " did not start: " + oneLine(e);
                startFailures.add(failure);
                if (diagnostics != null) {
                    diagnostics.println("warning: " + failure);
                }
            }
        }
    }

    private static boolean isSpankerBundle(Bundle bundle) {
        String name = bundle.getSymbolicName();
        return name != null && name.startsWith("org.popsolutions.spanker.");
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage();
        String text = message == null || message.isBlank() ? e.getClass().getName() : message;
        return text.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // A leftover temporary directory is not worth failing the command for.
        }
    }
}
