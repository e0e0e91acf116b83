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
    private static final List<String> PIPELINE_BUNDLES = List.of("org.popsolutions.spanker.runtime",
            "org.popsolutions.spanker.model.llama", "org.popsolutions.spanker.ggml",
            "org.popsolutions.spanker.device.mock", "org.popsolutions.spanker.scheduler");

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
        for (String name : PIPELINE_BUNDLES) {
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
