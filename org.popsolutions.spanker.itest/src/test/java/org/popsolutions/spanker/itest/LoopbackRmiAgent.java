package org.popsolutions.spanker.itest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A Java agent for the Karaf container's JVM that installs {@link LoopbackRmi} before Karaf starts. Pax Exam's
 * remote bundle context exports an RMI object there with the default socket factory, which would otherwise
 * listen on every interface for the length of the test.
 */
public final class LoopbackRmiAgent {
    private LoopbackRmiAgent() {
    }

    public static void premain(String arguments) throws IOException {
        LoopbackRmi.install();
    }

    /** Writes the agent jar (this class and {@link LoopbackRmi}) to {@code jar} and returns it. */
    static Path writeJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), LoopbackRmiAgent.class.getName());
        Files.createDirectories(jar.getParent());
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            for (Class<?> type : List.of(LoopbackRmiAgent.class, LoopbackRmi.class)) {
                String entry = type.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(entry));
                try (InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
                    if (in == null) {
                        throw new IOException("class file not found: " + entry);
                    }
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return jar;
    }
}
