package org.popsolutions.spanker.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.cluster.control.ClusterControl;
import org.popsolutions.spanker.cluster.control.StateFile;
import org.popsolutions.spanker.cluster.node.Layout;

/** A small cluster of real processes on 127.0.0.1: one pod of four hosts, one process per node. */
@Timeout(300)
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
        control.stop();
    }

    @Test
    void topologyDagAndRingStressOnOnePodOfFourHosts() {
        ClusterControl.Started started = control.start(new Layout(1, 1, 4), 4);
        assertEquals(4, started.pids().size());
        ClusterControl.TopologyResult topology = control.topology(Duration.ofSeconds(60));
        assertEquals(4, topology.nodes().size());
        ClusterControl.DagResult dag = control.dag(50, 4, Duration.ofSeconds(120));
        assertEquals(50, dag.f().length);
        assertEquals(9L * 49 * 49 + 12 * 49 + 2, dag.f()[49]);
        ClusterControl.RingStressResult stress = control.ringStress(Duration.ofSeconds(120));
        assertTrue(stress.counters().get("ringWaits") > 0);
    }
}
