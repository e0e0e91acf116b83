package org.popsolutions.spanker.cluster.node;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.popsolutions.spanker.api.cluster.ClusterTask;

/**
 * A process's OSGi framework, where task kernels are services named by {@value ClusterTask#NAME}. Built-in
 * kernels are registered by the process; shipped code arrives as bundle bytes addressed by content hash (the
 * first 8 bytes of their SHA-256, big-endian), is checked against that hash, installed and started, and is kept so
 * this process can ship it further down.
 */
public final class TaskServices implements AutoCloseable {

    private final Framework framework;
    private final Path storage;
    private final Map<Long, byte[]> codeByHash = new ConcurrentHashMap<>();
    private final Map<String, Long> hashByKernel = new ConcurrentHashMap<>();

    private TaskServices(Framework framework, Path storage) {
        this.framework = framework;
        this.storage = storage;
    }

    public static TaskServices start() throws IOException, BundleException {
        Path storage = Files.createTempDirectory("linqu-node-felix-");
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // the api packages with the api jar's own versions, so shipped code resolves against what this node runs
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, HostRuntime.systemPackages());
        config.put("felix.log.level", "0");
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class, TaskServices.class.getClassLoader())
                .findFirst().orElseThrow(() -> new IllegalStateException("no OSGi framework on the node class path"));
        Framework framework = factory.newFramework(config);
        framework.init();
        framework.start();
        return new TaskServices(framework, storage);
    }

    /** Registers a built-in kernel. */
    public void register(String name, ClusterTask task) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(ClusterTask.NAME, name);
        context().registerService(ClusterTask.class, task, properties);
    }

    /** The kernel named {@code name}, or {@code null} when no bundle in this framework provides it. */
    public ClusterTask find(String name) {
        BundleContext context = context();
        Collection<ServiceReference<ClusterTask>> references;
        try {
            references = context.getServiceReferences(ClusterTask.class,
                    "(" + ClusterTask.NAME + "=" + escape(name) + ")");
        } catch (InvalidSyntaxException e) {
            return null;
        }
        return references.stream().max(Comparator.naturalOrder()).map(context::getService).orElse(null);
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("*", "\\*").replace("(", "\\(").replace(")", "\\)");
    }

    /**
     * Installs shipped code once per hash (idempotent, so every node of a process can receive it).
     *
     * @throws IllegalArgumentException when the bytes do not match the hash or are not a bundle naming its kernels
     */
    public synchronized void install(long hash, byte[] bytes) {
        long actual = contentHash(bytes);
        if (actual != hash) {
            throw new IllegalArgumentException("code hash is " + Long.toHexString(hash) + " but the bytes hash to "
                    + Long.toHexString(actual));
        }
        if (codeByHash.containsKey(hash)) {
            return;
        }
        Bundle bundle;
        try {
            bundle = context().installBundle("linqu:code/" + Long.toHexString(hash), new ByteArrayInputStream(bytes));
            String kernels = bundle.getHeaders().get(ClusterTask.TASKS_HEADER);
            if (kernels == null || kernels.isBlank()) {
                bundle.uninstall();
                throw new IllegalArgumentException("shipped bundle " + bundle.getSymbolicName() + " has no "
                        + ClusterTask.TASKS_HEADER + " header naming its kernels");
            }
            bundle.start();
            codeByHash.put(hash, bytes.clone());
            for (String kernel : kernels.split(",")) {
                hashByKernel.put(kernel.trim(), hash);
            }
        } catch (BundleException e) {
            throw new IllegalArgumentException("shipped bundle did not install: " + e.getMessage());
        }
    }

    /** The code of {@code kernel} this process received, or {@code null}. */
    public Code codeOf(String kernel) {
        Long hash = hashByKernel.get(kernel);
        return hash == null ? null : new Code(hash, codeByHash.get(hash));
    }

    public record Code(long hash, byte[] bytes) {
    }

    public static long contentHash(byte[] bytes) {
        try {
            return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(bytes)).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private BundleContext context() {
        return framework.getBundleContext();
    }

    @Override
    public void close() {
        try {
            framework.stop();
            framework.waitForStop(5_000);
        } catch (BundleException | InterruptedException e) {
            // The process is ending; the storage goes below either way.
        }
        try (Stream<Path> files = Files.walk(storage)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // A temporary directory left behind is harmless.
        }
    }
}
