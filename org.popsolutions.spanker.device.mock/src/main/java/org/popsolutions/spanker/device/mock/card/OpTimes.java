package org.popsolutions.spanker.device.mock.card;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import org.popsolutions.spanker.api.card.Op;

/**
 * Wall time per kind of op on the mock cards, summed over the JVM's life and printed to stderr at its exit: a
 * profile of a decode step by op (which ops run on one thread, what a product of each shape costs) without a
 * sampling profiler's skew towards the Java frames. Off unless {@code -Dspanker.mock.opTimes=true}; when off, a step
 * pays one static final test the JIT folds away. Counting allocates nothing after an op's kind is first seen.
 *
 * <p>{@code -Dspanker.mock.opTimes=cpu} counts the running thread's CPU time instead of wall time: on a loaded machine
 * (other processes taking the cores) an op's wall time includes the time it waited for a core, its CPU time does
 * not. An op that runs on one thread is then its own cost; one split over the card's threads is the calling thread's
 * share (its rows and its wait for the helpers' last rows), not the helpers'.
 */
final class OpTimes {
    private static final String MODE = System.getProperty("spanker.mock.opTimes", "false");
    static final boolean CPU = "cpu".equals(MODE);
    static final boolean ON = CPU || Boolean.parseBoolean(MODE);
    private static final ThreadMXBean THREADS = CPU ? ManagementFactory.getThreadMXBean() : null;
    private static final int KINDS = 256;
    private static final ConcurrentHashMap<String, Integer> LABELS = new ConcurrentHashMap<>();
    private static final AtomicLongArray NANOS = new AtomicLongArray(KINDS);
    private static final AtomicLongArray COUNTS = new AtomicLongArray(KINDS);

    static {
        if (ON) {
            Runtime.getRuntime().addShutdownHook(new Thread(OpTimes::print, "op-times"));
        }
    }

    private OpTimes() {
    }

    /** The kind an op is counted under: its class, with a product's shape and vector count. */
    static int kind(Op op) {
        String label = op instanceof Op.MatMul m
                ? "MatMul " + m.rows() + "x" + m.columns() + " type " + m.ggmlType() + " vectors " + m.vectors()
                : op.getClass().getSimpleName();
        return kind(label);
    }

    /** The kind counted under {@code label}. */
    static int kind(String label) {
        return LABELS.computeIfAbsent(label, l -> Math.min(KINDS - 1, LABELS.size()));
    }

    /** Now, in the counted time: nanoseconds of wall time, or of this thread's CPU time. */
    static long now() {
        return CPU ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }

    static void add(int kind, long nanos) {
        NANOS.addAndGet(kind, nanos);
        COUNTS.incrementAndGet(kind);
    }

    private static void print() {
        List<String> lines = new ArrayList<>();
        long total = 0;
        for (int k = 0; k < KINDS; k++) {
            total += NANOS.get(k);
        }
        for (var e : LABELS.entrySet()) {
            int k = e.getValue();
            lines.add(String.format("%7.1f %% %10.1f ms %8d runs %8.1f us/run  %s", 100.0 * NANOS.get(k) / total,
                    NANOS.get(k) / 1e6, COUNTS.get(k), NANOS.get(k) / 1e3 / Math.max(1, COUNTS.get(k)), e.getKey()));
        }
        lines.sort(java.util.Comparator.reverseOrder());
        System.err.println("op times (mock cards, all runs, " + (CPU ? "the calling thread's CPU time" : "wall time")
                + "):");
        lines.forEach(System.err::println);
    }
}
