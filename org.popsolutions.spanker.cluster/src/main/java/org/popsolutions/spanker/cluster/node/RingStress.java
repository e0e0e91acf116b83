package org.popsolutions.spanker.cluster.node;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.FailurePolicy;
import org.popsolutions.spanker.api.cluster.Orchestrator;
import org.popsolutions.spanker.api.cluster.RingStats;
import org.popsolutions.spanker.api.cluster.TaskOutcome;
import org.popsolutions.spanker.api.cluster.TaskParam;

/**
 * Linqu's ring stress on an L4 pod's own rings, with every result checked: (1) more slow tasks than the ring has
 * slots, (2) tensors larger than an eighth of the heap ring, (3) chains in scopes nested to the depth limit with
 * each input freed early. A task left in an open scope would pin the ring (only an unbroken prefix retires), so
 * every group of tasks gets a scope that ends. Back-pressure must happen (counted), be survived, and leave the rings empty.
 */
final class RingStress {
    static final int SLOW_TASK_MILLIS = 100;
    private static final int LONGS = 64;

    private RingStress() {
    }

    /** Result: 8-byte values {checks, then the ring counters of this run (see {@link Programs#statsArray})}. */
    static byte[] run(Coordinate self, Orchestrator ring, List<Coordinate> hosts) {
        RingStats before = ring.stats();
        int h = hosts.size();
        List<long[]> expected = new ArrayList<>(); // {task id, expected sum}
        ring.scopeBegin();
        try {
            // (1) Ring pressure: 3 windows' worth of slow fill + sum pairs.
            for (int i = 0; i < 96; i++) {
                pair(ring, hosts.get(i % h), hosts.get((i + 1) % h), LONGS * 8, i, SLOW_TASK_MILLIS, expected);
            }
            // (2) Heap pressure: 128 KiB tensors, eight fit the 1 MiB heap ring.
            for (int i = 0; i < 24; i++) {
                pair(ring, hosts.get(i % h), hosts.get((i + 2) % h), 128 << 10, 1_000 + i, SLOW_TASK_MILLIS,
                        expected);
            }
            // (3) Nested scopes to the depth limit (this program's, the round's, six more) with early frees:
            // x0 = v, x_d = x_{d-1} + d for d = 1..6, sum(x_6) = LONGS(v + 21).
            for (int round = 0; round < 10; round++) {
                long value = 10_000 + round;
                ring.scopeBegin();
                long x = ring.allocTensor(hosts.get(round % h), LONGS * 8);
                ring.submitTask(hosts.get(round % h), Kernels.FILL,
                        List.of(TaskParam.output(x), TaskParam.scalar(value), TaskParam.scalar(0)), FailurePolicy.FAIL);
                int depth = 0;
                for (int d = 1; d <= 6; d++) {
                    ring.scopeBegin();
                    depth++;
                    Coordinate host = hosts.get((round + d) % h);
                    long next = ring.allocTensor(host, LONGS * 8);
                    ring.submitTask(host, Kernels.ADD_SCALAR,
                            List.of(TaskParam.input(x), TaskParam.scalar(d), TaskParam.output(next)), FailurePolicy.FAIL);
                    ring.freeTensor(x);
                    x = next;
                }
                long sum = ring.submitTask(hosts.get(round % h), Kernels.SUM, List.of(TaskParam.input(x)),
                        FailurePolicy.FAIL);
                expected.add(new long[] {sum, LONGS * (value + 21)});
                for (; depth > 0; depth--) {
                    ring.scopeEnd();
                }
                ring.scopeEnd();
            }
        } finally {
            ring.scopeEnd();
        }
        ring.waitAll(Duration.ofMinutes(5));
        long checks = 0;
        for (long[] check : expected) {
            TaskOutcome outcome = ring.outcome(check[0]);
            if (!outcome.succeeded()) {
                throw new ClusterException("ring stress on " + self + ": " + outcome.error());
            }
            long got = Longs.fromBytes(outcome.result())[0];
            if (got != check[1]) {
                throw new ClusterException("ring stress on " + self + ": task #" + check[0] + " summed " + got
                        + ", expected " + check[1]);
            }
            checks++;
        }
        RingStats after = ring.stats();
        long[] delta = Programs.statsArray(after);
        long[] base = Programs.statsArray(before);
        for (int i = 0; i < 8; i++) {
            delta[i] -= base[i]; // counters; the last four are levels and stay as they are now
        }
        long[] result = new long[1 + delta.length];
        result[0] = checks;
        System.arraycopy(delta, 0, result, 1, delta.length);
        return Longs.toBytes(result);
    }

    /** fill(t = value, after sleeping) on one host, sum(t) on another, t freed early, all in one scope. */
    private static void pair(Orchestrator ring, Coordinate producer, Coordinate consumer, int bytes, long value,
            int sleepMillis, List<long[]> expected) {
        ring.scopeBegin();
        try {
            long tensor = ring.allocTensor(producer, bytes);
            ring.submitTask(producer, Kernels.FILL,
                    List.of(TaskParam.output(tensor), TaskParam.scalar(value), TaskParam.scalar(sleepMillis)),
                    FailurePolicy.FAIL);
            long sum = ring.submitTask(consumer, Kernels.SUM, List.of(TaskParam.input(tensor)), FailurePolicy.FAIL);
            ring.freeTensor(tensor);
            expected.add(new long[] {sum, value * (bytes / 8)});
        } finally {
            ring.scopeEnd();
        }
    }
}
