package org.popsolutions.spanker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.cluster.control.ClusterClient;
import org.popsolutions.spanker.cluster.control.ClusterControl;
import org.popsolutions.spanker.cluster.control.StateFile;
import org.popsolutions.spanker.cluster.node.Layout;
import org.popsolutions.spanker.cluster.node.Membership;
import org.popsolutions.spanker.cluster.shipped.SquareActivator;

/**
 * A small cluster of real processes on 127.0.0.1: one pod of four hosts (7 nodes) in four processes, split depth
 * first: [root] [L5, L4] [host 0, host 1] [host 2, host 3]. Every test stops its cluster, whatever happens.
 */
@Timeout(600)
class ClusterProcessesTest {
    @TempDir
    Path home;
    ClusterControl control;

    @BeforeEach
    void setUp() {
        control = new ClusterControl(new StateFile(home));
    }

    @AfterEach
    void stopEverything() {
        List<Long> pids = control.stop().map(s -> {
            List<Long> all = new java.util.ArrayList<>(s.stopped());
            all.addAll(s.killed());
            return all;
        }).orElse(List.of());
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " is left");
        }
    }

    @Test
    void theThreeLinquProgramsAndCodeShippingPassWithRealChecks() throws IOException {
        ClusterControl.Started started = control.start(new Layout(1, 1, 4), 4);
        assertEquals(4, started.pids().size());
        assertTrue(Files.exists(home.resolve("state.json")));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(home.resolve("state.json"))));

        ClusterControl.TopologyResult topology = control.topology(Duration.ofSeconds(120));
        assertEquals(4, topology.nodes().size());
        for (int i = 0; i < 4; i++) {
            ClusterControl.Identity host = topology.nodes().get(i);
            assertEquals(i, host.l3());
            assertEquals(i, host.global());
            assertEquals(started.pids().get(i < 2 ? 2 : 3), host.pid(), "host " + i + " runs in its own process");
        }

        ClusterControl.DagResult dag = control.dag(50, 4, Duration.ofSeconds(300));
        for (int i = 0; i < 50; i++) {
            assertEquals(9L * i * i + 12L * i + 2, dag.f()[i]);
        }
        assertEquals(6 * 13, dag.tasks());

        ClusterControl.RingStressResult stress = control.ringStress(Duration.ofSeconds(300));
        assertEquals(130, stress.counters().get("checks"));
        assertTrue(stress.counters().get("ringWaits") > 0);
        assertTrue(stress.counters().get("heapWaits") > 0);
        assertEquals(0, stress.counters().get("poolUsed"));

        // Code shipping: the root lacks shipped.square, asks for it (RETRY_WITH_CODE), installs the bundle sent
        // (REG_CODE), runs it; then ships it on to its L5 child the same way.
        byte[] bundle = squareBundle();
        ClusterClient.Code code = new ClusterClient.Code(
                org.popsolutions.spanker.cluster.node.TaskServices.contentHash(bundle), bundle);
        assertThrows(ClusterException.class, () -> control.callRoot("shipped.square", List.of(TaskParam.scalar(7)),
                Duration.ofSeconds(60), null), "without code the call cannot go through");
        byte[] square = control.callRoot("shipped.square", List.of(TaskParam.scalar(7)), Duration.ofSeconds(60), code);
        assertEquals(49, ByteBuffer.wrap(square).getLong());
        byte[] fromChild = control.callRoot("linqu.call_children", callChildren("shipped.square", 9),
                Duration.ofSeconds(60), null);
        assertEquals(81, ByteBuffer.wrap(fromChild).getLong());
        ClusterClient.Code forged = new ClusterClient.Code(code.hash() ^ 1, bundle);
        assertThrows(ClusterException.class, () -> control.callRoot("shipped.cube", List.of(TaskParam.scalar(2)),
                Duration.ofSeconds(60), forged), "bytes that do not match their hash are refused");
    }

    @Test
    void killingAHostProcessDuringTheDagIsDetectedAndNeverHangs() throws Exception {
        ClusterControl.Started started = control.start(new Layout(1, 1, 4), 4);
        long victim = started.pids().get(3);
        CompletableFuture<Object> dag = CompletableFuture.supplyAsync(() -> {
            try {
                return control.dag(2000, 2, Duration.ofSeconds(300));
            } catch (ClusterException e) {
                return e;
            }
        });
        Thread.sleep(1500);
        long killedAt = System.nanoTime();
        assertTrue(ProcessHandle.of(victim).orElseThrow().destroyForcibly(), "SIGKILL to " + victim);
        long detectedMillis = -1;
        while (System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(60)) {
            ClusterControl.Status status = control.status();
            long dead = status.nodes().stream().filter(n -> n.state() == NodeState.DEAD).count();
            if (dead == 2) {
                detectedMillis = (System.nanoTime() - killedAt) / 1_000_000;
                assertTrue(status.nodes().stream().filter(n -> n.state() == NodeState.DEAD)
                        .allMatch(n -> n.pid() == victim && n.coordinate().level() == Level.HOST));
                break;
            }
            Thread.sleep(100);
        }
        System.out.println("kill -9 of process " + victim + " detected after " + detectedMillis + " ms (bound "
                + Membership.MAX_NO_HEARTBEAT_SECONDS + " s without heartbeat, machine loaded)");
        assertTrue(detectedMillis >= 0, "the killed hosts were never reported dead");
        Object outcome = dag.get(300, TimeUnit.SECONDS);
        System.out.println("dag after kill -9: " + (outcome instanceof ClusterException e ? "failed: " + e.getMessage()
                : "completed, every value checked"));
        if (outcome instanceof ClusterException failure) {
            String message = failure.getMessage();
            assertTrue(message.contains("L3(0,0,0,2)") || message.contains("L3(0,0,0,3)"),
                    "the failure names a dead host: " + message);
        } else {
            long[] f = ((ClusterControl.DagResult) outcome).f();
            for (int i = 0; i < f.length; i++) {
                assertEquals(9L * i * i + 12L * i + 2, f[i]);
            }
        }
        // The survivors still work: the topology now reports two hosts short, which its check names.
        ClusterException shortTopology = assertThrows(ClusterException.class,
                () -> control.topology(Duration.ofSeconds(120)));
        assertTrue(shortTopology.getMessage().contains("2 L3 hosts reported, 4 were started"),
                shortTopology.getMessage());
    }

    private static List<TaskParam> callChildren(String kernel, long argument) {
        byte[] utf8 = kernel.getBytes(StandardCharsets.UTF_8);
        List<TaskParam> params = new java.util.ArrayList<>();
        for (int i = 0; i < utf8.length; i += 8) {
            params.add(TaskParam.scalar(ByteBuffer.wrap(java.util.Arrays.copyOfRange(utf8, i, i + 8)).getLong()));
        }
        params.add(TaskParam.scalar(argument));
        return params;
    }

    /** A bundle holding only {@link SquareActivator}, built from the compiled test class. */
    private static byte[] squareBundle() throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "shipped.square");
        main.putValue("Bundle-Version", "1.0.0");
        main.putValue("Bundle-Activator", SquareActivator.class.getName());
        main.putValue("Import-Package",
                "org.osgi.framework,org.popsolutions.spanker.api.cluster;version=\"[1.0,2)\"");
        main.putValue("Linqu-Tasks", "shipped.square");
        String entry = SquareActivator.class.getName().replace('.', '/') + ".class";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes, manifest);
                InputStream classBytes = SquareActivator.class.getClassLoader().getResourceAsStream(entry)) {
            jar.putNextEntry(new JarEntry(entry));
            classBytes.transferTo(jar);
            jar.closeEntry();
        }
        return bytes.toByteArray();
    }
}
