package org.popsolutions.spanker.itest;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.vmOption;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.configureConsole;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.karafDistributionConfiguration;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.logLevel;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.karaf.options.LogLevelOption.LogLevel;

/**
 * The Pax Exam configuration every test class here boots: the Spanker Karaf distribution built by the reactor,
 * unpacked under target/exam, on Felix, with every listener on 127.0.0.1. Runs in the test JVM only.
 */
final class SpankerContainer {
    private SpankerContainer() {
    }

    /** The shared container options followed by {@code extra} (a test class's own system properties, say). */
    static Option[] options(Option... extra) throws IOException {
        return options(Path.of("target", "exam"), extra);
    }

    /** The same, unpacked under {@code unpackDirectory} (a test that edits the running Karaf's files finds it there). */
    static Option[] options(Path unpackDirectory, Option... extra) throws IOException {
        if (Runtime.version().feature() >= 24) {
            fail("Karaf 4.4.10's shell needs Java 17 (it cannot open a session on Java " + Runtime.version().feature()
                    + "); set KARAF_JAVA_HOME to a JDK 17 and the itest pom forks this test on it");
        }
        LoopbackRmi.install();
        StopLeftoverContainers.install();
        // Pax Exam pumps this JVM's stdin into the container; Surefire talks to its forked JVM over that
        // same stdin and would lose its exit acknowledgement to the pump (the fork then hangs 30 s at exit).
        // Surefire holds its own reference to the original stream, so only Pax Exam sees this empty one.
        System.setIn(new ByteArrayInputStream(new byte[0]));
        String distribution = requiredProperty("spanker.distribution");
        String localRepository = requiredProperty("maven.repo.local");
        String mavenCfg = "etc/org.ops4j.pax.url.mvn.cfg";
        Option[] shared = {
            karafDistributionConfiguration()
                    .frameworkUrl(new File(distribution).toURI().toString())
                    .karafVersion(requiredProperty("spanker.karaf.version"))
                    .name("Spanker Karaf distribution")
                    .unpackDirectory(unpackDirectory.toFile())
                    .useDeployFolder(false),
            // The container resolves Pax Exam's own bundles through pax-url: from Maven's local repository,
            // else from Maven Central only.
            editConfigurationFilePut(mavenCfg, "org.ops4j.pax.url.mvn.localRepository", localRepository),
            editConfigurationFilePut(mavenCfg, "org.ops4j.pax.url.mvn.repositories",
                    "https://repo1.maven.org/maven2@id=central"),
            editConfigurationFilePut(mavenCfg, "org.ops4j.pax.url.mvn.useFallbackRepositories", "false"),
            // Every listener on 127.0.0.1: Karaf's (the distribution says so already; the test must not depend
            // on it) and Pax Exam's RMI channel on both sides (LoopbackRmi here, the agent in the container).
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryHost", "127.0.0.1"),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerHost", "127.0.0.1"),
            editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshHost", "127.0.0.1"),
            // Fresh ports per container: a previous test class's Karaf may still hold the default ones while
            // it shuts down, and the next container would then never come up.
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiRegistryPort", freePort()),
            editConfigurationFilePut("etc/org.apache.karaf.management.cfg", "rmiServerPort", freePort()),
            editConfigurationFilePut("etc/org.apache.karaf.shell.cfg", "sshPort", freePort()),
            // No ssh server (commands run through an in-process session) and no console on the test's stdin.
            configureConsole().ignoreLocalConsole().ignoreRemoteShell(),
            vmOption("--add-modules=jdk.incubator.vector"),
            vmOption("-javaagent:" + LoopbackRmiAgent.writeJar(Path.of("target", "loopback-rmi-agent.jar")).toAbsolutePath()),
            systemProperty("java.rmi.server.hostname").value("127.0.0.1"),
            logLevel(LogLevel.WARN),
            // Pax Exam's 180 s default for the container to come up is too short on a busy 2-core machine.
            org.ops4j.pax.exam.CoreOptions.systemTimeout(600_000),
            // ... and its 10 s for an injected service (Karaf's BootFinished waits for every boot feature).
            systemProperty(org.ops4j.pax.exam.Constants.EXAM_SERVICE_TIMEOUT_KEY).value("300000"),
        };
        return Stream.concat(Arrays.stream(shared), Arrays.stream(extra)).toArray(Option[]::new);
    }

    /**
     * A port nothing listens on right now, on the loopback interface, below Linux's ephemeral range (32768-60999): a
     * port the kernel handed out as ephemeral and this test closed again could be handed to one of the container's own
     * listeners (RMI, JMX) before the listener it was picked for binds it. That happened to the web view's HTTP port
     * (Pax Web: "Failed to bind ... Address already in use", the page never served).
     */
    static String freePort() throws IOException {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20_000 + random.nextInt(12_000);
            try (java.net.ServerSocket socket = new java.net.ServerSocket(port, 1,
                    java.net.InetAddress.getLoopbackAddress())) {
                return String.valueOf(socket.getLocalPort());
            } catch (IOException taken) {
                // another one
            }
        }
        throw new IOException("no free loopback port in 20000-31999 after 200 tries");
    }

    /** A system property the itest pom sets for the test JVM. */
    static String requiredProperty(String name) {
        String value = System.getProperty(name);
        assertNotNull("system property " + name + " (set by the itest pom)", value);
        return value;
    }
}
