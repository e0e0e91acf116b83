package org.popsolutions.spanker.cluster.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.FailurePolicy;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.RingStats;
import org.popsolutions.spanker.api.cluster.TaskOutcome;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.cluster.wire.Message;
import org.popsolutions.spanker.cluster.wire.Status;

/** The task ring's rules (SPEC §6, with the original's defects fixed), driven through a recording transport. */
class TaskRingTest {
    private static final Coordinate POD = new Coordinate(org.popsolutions.spanker.api.cluster.Level.POD, 0, 0, 0, 0);
    private static final Coordinate H0 = POD.child(0);
    private static final Coordinate H1 = POD.child(1);
    private static final Coordinate H2 = POD.child(2);

    static final class Recording implements RingTransport {
        final List<Sent> sent = new ArrayList<>();
        final Set<Coordinate> dead = new HashSet<>();

        record Sent(Coordinate target, Message message) {
        }

        @Override
        public synchronized void send(Coordinate target, Message message) {
            sent.add(new Sent(target, message));
        }

        @Override
        public void store(Coordinate target, Message.RegData data) {
            send(target, data);
        }

        @Override
        public boolean shipCode(Coordinate target, String kernel) {
            return false;
        }

        @Override
        public boolean isLive(Coordinate node) {
            return !dead.contains(node);
        }

        @Override
        public String describeDeath(Coordinate node) {
            return "process 42 left the membership";
        }

        @Override
        public List<NodeInfo> peers(Coordinate self) {
            return List.of();
        }

        @Override
        public List<Coordinate> liveChildren(Coordinate parent) {
            return List.of(H0, H1, H2).stream().filter(this::isLive).toList();
        }

        synchronized List<Message.CallTask> calls() {
            return sent.stream().filter(s -> s.message() instanceof Message.CallTask)
                    .map(s -> (Message.CallTask) s.message()).toList();
        }

        synchronized Coordinate targetOf(Message.CallTask call) {
            return sent.stream().filter(s -> s.message() == call).findFirst().orElseThrow().target();
        }
    }

    private static RingConfig config(int window, long heap, int pool, Duration wait) {
        return new RingConfig(window, heap, pool, 256, wait);
    }

    private static void complete(TaskRing ring, Recording transport, Message.CallTask call) {
        ring.onComplete(transport.targetOf(call), new Message.TaskComplete(call.taskId(), Status.OK, new byte[0], ""));
    }

    @Test
    void aConsumerIsDispatchedOnlyAfterItsProducerCompletes() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, transport);
        long a = ring.allocTensor(H0, 8);
        long b = ring.allocTensor(H1, 8);
        ring.regData(H0, a, new byte[8]);
        ring.submitTask(H0, "produce", List.of(TaskParam.input(a), TaskParam.output(b)), FailurePolicy.FAIL);
        ring.submitTask(H1, "consume", List.of(TaskParam.input(b)), FailurePolicy.FAIL);
        assertEquals(1, transport.calls().size(), "the consumer must wait for its producer");
        complete(ring, transport, transport.calls().get(0));
        assertEquals(2, transport.calls().size());
        Message.CallTask consumer = transport.calls().get(1);
        assertEquals("consume", consumer.name());
        assertEquals(H0.pack(), consumer.params().get(0).scalar(), "the input's holder is where its producer ran");
    }

    @Test
    void aFailedTaskRetiresAndFailsItsConsumersWithTheCauseNamed() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, transport);
        ring.scopeBegin();
        long t = ring.allocTensor(H0, 8);
        long producer = ring.submitTask(H0, "produce", List.of(TaskParam.output(t)), FailurePolicy.FAIL);
        long consumer = ring.submitTask(H1, "consume", List.of(TaskParam.input(t)), FailurePolicy.FAIL);
        Message.CallTask call = transport.calls().get(0);
        ring.onComplete(H0, new Message.TaskComplete(call.taskId(), Status.TASK_ERROR, new byte[0], "disk on fire"));
        ring.scopeEnd();
        ring.waitAll(Duration.ofSeconds(1));
        TaskOutcome failed = ring.outcome(consumer);
        assertFalse(failed.succeeded());
        assertTrue(failed.error().contains("disk on fire"), failed.error());
        assertTrue(failed.error().contains("#" + producer), failed.error());
        RingStats stats = ring.stats();
        assertEquals(2, stats.failed());
        assertEquals(stats.submitted(), stats.retired(), "failed tasks retire like any other");
        assertEquals(0, stats.poolUsed(), "the dependency pool is reclaimed");
        assertEquals(0, stats.heapUsed());
        assertEquals(1, transport.calls().size(), "the consumer of a failed task is never dispatched");
    }

    @Test
    void aFullRingWaitsBoundedThenRaisesAClearError() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, config(4, 1 << 20, 512, Duration.ofMillis(300)), transport);
        for (int i = 0; i < 4; i++) {
            ring.submitTask(H0, "slow", List.of(), FailurePolicy.FAIL);
        }
        ClusterException error = assertThrows(ClusterException.class,
                () -> ring.submitTask(H0, "slow", List.of(), FailurePolicy.FAIL));
        assertTrue(error.getMessage().contains("task ring of L4(0,0,0,0) stayed full"), error.getMessage());
        assertEquals(1, ring.stats().ringWaits());
    }

    @Test
    void aFullRingMakesRoomWhenTasksRetire() throws Exception {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, config(2, 1 << 20, 512, Duration.ofSeconds(20)), transport);
        ring.scopeBegin();
        ring.submitTask(H0, "one", List.of(), FailurePolicy.FAIL);
        ring.submitTask(H0, "two", List.of(), FailurePolicy.FAIL);
        ring.scopeEnd();
        Thread completer = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            complete(ring, transport, transport.calls().get(0));
        });
        completer.start();
        ring.submitTask(H0, "three", List.of(), FailurePolicy.FAIL);
        completer.join();
        assertEquals(1, ring.stats().ringWaits());
        assertEquals(3, transport.calls().size());
    }

    @Test
    void waitAllTimesOutNamingTheTaskStillRunning() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, transport);
        ring.submitTask(H2, "stuck", List.of(), FailurePolicy.FAIL);
        ClusterException error = assertThrows(ClusterException.class, () -> ring.waitAll(Duration.ofMillis(200)));
        assertTrue(error.getMessage().contains("'stuck' on L3(0,0,0,2) is still RUNNING"), error.getMessage());
    }

    @Test
    void aDeadNodesTaskRerunsOnASiblingOrFailsNamingTheNode() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, transport);
        long rerun = ring.submitTask(H1, "again", List.of(), FailurePolicy.RERUN_ON_SIBLING);
        long failing = ring.submitTask(H1, "once", List.of(), FailurePolicy.FAIL);
        transport.dead.add(H1);
        ring.onNodeDead(H1);
        Message.CallTask moved = transport.calls().get(2);
        assertEquals("again", moved.name());
        assertFalse(transport.targetOf(moved).equals(H1));
        complete(ring, transport, moved);
        assertTrue(ring.outcome(rerun).succeeded());
        TaskOutcome failed = ring.outcome(failing);
        assertTrue(failed.error().contains("L3(0,0,0,1) died (process 42 left the membership)"), failed.error());
        assertEquals(1, ring.stats().rerun());
    }

    @Test
    void anInputHeldByADeadNodeFailsItsConsumerByName() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, transport);
        long t = ring.allocTensor(H0, 8);
        ring.submitTask(H0, "produce", List.of(TaskParam.output(t)), FailurePolicy.FAIL);
        complete(ring, transport, transport.calls().get(0));
        transport.dead.add(H0);
        long consumer = ring.submitTask(H1, "consume", List.of(TaskParam.input(t)), FailurePolicy.FAIL);
        assertTrue(ring.outcome(consumer).error().contains("held by L3(0,0,0,0), which died"));
    }

    @Test
    void theHeapRingWaitsForRetirementThenWrapsToReuseMemory() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, config(64, 1024, 512, Duration.ofMillis(200)), transport);
        ring.scopeBegin();
        long first = ring.allocTensor(H0, 512);
        ring.allocTensor(H0, 400);
        assertThrows(ClusterException.class, () -> ring.allocTensor(H0, 256), "112 bytes are left at the end");
        assertEquals(1, ring.stats().heapWaits());
        ring.freeTensor(first);
        assertNotNull(ring.allocTensor(H0, 256), "after the first tensor is freed the ring wraps to offset 0");
        ring.scopeEnd();
        assertEquals(0, ring.stats().heapUsed());
        assertEquals(0, ring.stats().liveTensors());
    }

    @Test
    void aFreedTensorCannotBeUsedAgain() {
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, new Recording());
        long t = ring.allocTensor(H0, 8);
        ring.freeTensor(t);
        ClusterException error = assertThrows(ClusterException.class,
                () -> ring.submitTask(H0, "use", List.of(TaskParam.input(t)), FailurePolicy.FAIL));
        assertTrue(error.getMessage().contains("freed"), error.getMessage());
    }

    @Test
    void scopesNestEightDeepAndNoDeeper() {
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, new Recording());
        for (int depth = 1; depth <= 8; depth++) {
            ring.scopeBegin();
        }
        assertThrows(ClusterException.class, ring::scopeBegin);
        for (int depth = 1; depth <= 8; depth++) {
            ring.scopeEnd();
        }
        assertThrows(ClusterException.class, ring::scopeEnd, "an unmatched scopeEnd is an error");
    }

    @Test
    void aTargetThatIsNotAChildIsRefused() {
        TaskRing ring = new TaskRing(POD, RingConfig.DEFAULT, new Recording());
        Coordinate cousin = new Coordinate(org.popsolutions.spanker.api.cluster.Level.HOST, 0, 0, 1, 0);
        ClusterException error = assertThrows(ClusterException.class,
                () -> ring.submitTask(cousin, "x", List.of(), FailurePolicy.FAIL));
        assertTrue(error.getMessage().contains("not a child of L4(0,0,0,0)"), error.getMessage());
    }

    @Test
    void theDependencyPoolIsReclaimedAfterThousandsOfEdges() {
        Recording transport = new Recording();
        TaskRing ring = new TaskRing(POD, config(8, 1 << 20, 4, Duration.ofSeconds(1)), transport);
        for (int round = 0; round < 1000; round++) {
            ring.scopeBegin();
            long t = ring.allocTensor(H0, 8);
            ring.submitTask(H0, "produce", List.of(TaskParam.output(t)), FailurePolicy.FAIL);
            ring.submitTask(H1, "consume", List.of(TaskParam.input(t)), FailurePolicy.FAIL);
            ring.freeTensor(t);
            ring.scopeEnd();
            List<Message.CallTask> calls = transport.calls();
            complete(ring, transport, calls.get(calls.size() - 1));
            calls = transport.calls();
            complete(ring, transport, calls.get(calls.size() - 1));
        }
        RingStats stats = ring.stats();
        assertEquals(2000, stats.retired());
        assertEquals(0, stats.poolUsed());
        assertEquals(0, stats.liveTensors());
    }
}
