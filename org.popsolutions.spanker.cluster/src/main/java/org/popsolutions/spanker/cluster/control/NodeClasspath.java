package org.popsolutions.spanker.cluster.control;

import java.io.File;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.ClusterTask;

/**
 * The class path of a node process: this bundle's jar (NodeMain), the api jar, Hazelcast and the Felix framework.
 * Inside OSGi the jars are found from the installed bundles (a {@code file:}/{@code reference:} location as the
 * launcher installs them, or {@code mvn:} in Karaf's {@code system/} repository; Hazelcast may also sit in
 * {@code cluster-lib/} beside the launcher's bundle directory); outside OSGi (tests) it is this
 * JVM's class path. {@code spanker.cluster.classpath} overrides both.
 */
final class NodeClasspath {
    private static final String HAZELCAST = "com.hazelcast";
    /** The libraries the pipeline kernels read models and cut plans with, on a node's class path. */
    private static final List<String> PIPELINE_LIBRARIES = List.of("org.popsolutions.spanker.model.llama",
            "org.popsolutions.spanker.ggml");
    /**
     * The bundles of a host's card runtime (HostRuntime: its own framework, where the runtime's inference service
     * runs stages on the cards of device.mock or device.sails, joined by the scheduler's collectives).
     */
    static final List<String> HOST_BUNDLES = List.of("org.apache.felix.scr", "org.osgi.service.component",
            "org.osgi.util.promise", "org.osgi.util.function", "org.apache.felix.configadmin", "org.osgi.service.log",
            "com.google.gson", "picocli", "org.popsolutions.spanker.plot", "org.popsolutions.spanker.console",
            "org.popsolutions.spanker.ggml",
            "org.popsolutions.spanker.model.llama", "org.popsolutions.spanker.scheduler",
            "org.popsolutions.spanker.runtime", "org.popsolutions.spanker.device.mock",
            "org.popsolutions.spanker.protocol", "org.popsolutions.spanker.device.sails");

    private NodeClasspath() {
    }

    static String resolve() {
        String configured = System.getProperty("spanker.cluster.classpath");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        Bundle self = FrameworkUtil.getBundle(NodeClasspath.class);
        if (self == null) {
            return System.getProperty("java.class.path");
        }
        BundleContext context = self.getBundleContext();
        List<Path> jars = new ArrayList<>();
        jars.add(jarOf(self));
        Bundle api = FrameworkUtil.getBundle(ClusterTask.class);
        jars.add(api == null || api.getBundleId() == 0 ? codeSource(ClusterTask.class) : jarOf(api));
        Bundle hazelcast = null;
        for (Bundle bundle : context.getBundles()) {
            if (HAZELCAST.equals(bundle.getSymbolicName())) {
                hazelcast = bundle;
            }
        }
        if (hazelcast != null) {
            jars.add(jarOf(hazelcast));
        } else {
            // The standalone launcher keeps Hazelcast out of its framework (nothing there uses it) and beside it.
            Path beside = jars.get(0).getParent().resolveSibling("cluster-lib").resolve("hazelcast.jar");
            if (!Files.isRegularFile(beside)) {
                throw new ClusterException("Hazelcast is neither installed as a bundle (com.hazelcast) nor at "
                        + beside + "; the node processes need it (in Karaf: feature:install spanker-cluster)");
            }
            jars.add(beside);
        }
        // What the pipeline kernels run a model with (PipelineKernels); without them a node simply lacks those kernels.
        for (String name : PIPELINE_LIBRARIES) {
            for (Bundle bundle : context.getBundles()) {
                if (name.equals(bundle.getSymbolicName())) {
                    jars.add(jarOf(bundle));
                    break;
                }
            }
        }
        try {
            jars.add(codeSource(context.getBundle(0).loadClass("org.apache.felix.framework.Felix")));
        } catch (ClassNotFoundException e) {
            throw new ClusterException("node processes need Apache Felix, and this framework is not Felix");
        }
        StringBuilder path = new StringBuilder();
        for (Path jar : jars) {
            if (path.length() > 0) {
                path.append(File.pathSeparatorChar);
            }
            path.append(jar);
        }
        return path.toString();
    }

    /**
     * The jars of a host's card runtime, path-separated: the installed bundles of those names, or outside OSGi the
     * class path entries whose manifests name them; empty when any is missing (then hosts run no stage and say why).
     */
    static String hostBundles() {
        String configured = System.getProperty("spanker.cluster.bundles");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        java.util.Map<String, Path> found = new java.util.LinkedHashMap<>();
        Bundle self = FrameworkUtil.getBundle(NodeClasspath.class);
        if (self != null) {
            for (Bundle bundle : self.getBundleContext().getBundles()) {
                if (HOST_BUNDLES.contains(bundle.getSymbolicName()) && !found.containsKey(bundle.getSymbolicName())) {
                    try {
                        found.put(bundle.getSymbolicName(), jarOf(bundle));
                    } catch (ClusterException notAJar) {
                        // a bundle installed from elsewhere: the hosts go without it and name it when asked
                    }
                }
            }
        } else {
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                String name = symbolicName(Path.of(entry));
                if (name != null && HOST_BUNDLES.contains(name)) {
                    found.putIfAbsent(name, Path.of(entry));
                }
            }
        }
        if (!found.keySet().containsAll(HOST_BUNDLES)) {
            return "";
        }

        StringBuilder path = new StringBuilder();
        for (String name : HOST_BUNDLES) {
            if (path.length() > 0) {
                path.append(File.pathSeparatorChar);
            }
            path.append(found.get(name));
        }
        return path.toString();
    }

    /** The bundles of a host's card runtime that {@link #hostBundles()} did not find (empty when it found all). */
    static List<String> missingHostBundles() {
        Bundle self = FrameworkUtil.getBundle(NodeClasspath.class);
        java.util.Set<String> found = new java.util.HashSet<>();
        if (self != null) {
            for (Bundle bundle : self.getBundleContext().getBundles()) {
                found.add(bundle.getSymbolicName());
            }
        } else {
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                found.add(symbolicName(Path.of(entry)));
            }
        }
        return HOST_BUNDLES.stream().filter(name -> !found.contains(name)).toList();
    }

    /** The Bundle-SymbolicName of a jar or class directory, without its attributes; null when it has none. */
    private static String symbolicName(Path entry) {
        try {
            java.util.jar.Manifest manifest;
            if (Files.isDirectory(entry)) {
                Path file = entry.resolve("META-INF/MANIFEST.MF");
                if (!Files.isRegularFile(file)) {
                    return null;
                }
                try (java.io.InputStream in = Files.newInputStream(file)) {
                    manifest = new java.util.jar.Manifest(in);
                }
            } else if (Files.isRegularFile(entry)) {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(entry.toFile())) {
                    manifest = jar.getManifest();
                }
            } else {
                return null;
            }
            String name = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            return name == null ? null : name.split(";")[0].trim();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static Path codeSource(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        if (source == null) {
            throw new ClusterException("cannot tell which jar " + type.getName() + " comes from");
        }
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new ClusterException("cannot tell which jar " + type.getName() + " comes from ("
                    + source.getLocation() + ")");
        }
    }

    private static Path jarOf(Bundle bundle) {
        String location = bundle.getLocation();
        if (location.startsWith("reference:")) {
            location = location.substring("reference:".length());
        }
        try {
            if (location.startsWith("file:")) {
                return Path.of(new URI(location));
            }
            if (location.startsWith("mvn:")) {
                return fromMavenRepository(location);
            }
        } catch (URISyntaxException | IllegalArgumentException e) {
            // Falls through to the error below.
        }
        throw new ClusterException("cannot find the jar of bundle " + bundle.getSymbolicName() + " at " + location);
    }

    /** {@code mvn:group/artifact/version} in Karaf's system repository or the user's Maven repository. */
    private static Path fromMavenRepository(String location) {
        String[] parts = location.substring(4).split("/");
        if (parts.length < 3) {
            throw new ClusterException("bundle location " + location + " is not mvn:group/artifact/version");
        }
        String relative = parts[0].replace('.', '/') + "/" + parts[1] + "/" + parts[2] + "/" + parts[1] + "-"
                + parts[2] + ".jar";
        List<Path> roots = new ArrayList<>();
        String karafHome = System.getProperty("karaf.home");
        if (karafHome != null) {
            roots.add(Path.of(karafHome, "system"));
        }
        String defaultRepository = System.getProperty("karaf.default.repository");
        if (defaultRepository != null && karafHome != null) {
            roots.add(Path.of(karafHome).resolve(defaultRepository));
        }
        roots.add(Path.of(System.getProperty("user.home"), ".m2", "repository"));
        for (Path root : roots) {
            Path jar = root.resolve(relative);
            if (Files.isRegularFile(jar)) {
                return jar;
            }
        }
        throw new ClusterException("bundle " + location + " is in none of " + roots);
    }
}
