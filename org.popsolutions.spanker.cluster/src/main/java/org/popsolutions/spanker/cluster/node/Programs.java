package org.popsolutions.spanker.cluster.node;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.FailurePolicy;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeInfo;
import org.popsolutions.spanker.api.cluster.Orchestrator;
import org.popsolutions.spanker.api.cluster.RingStats;
import org.popsolutions.spanker.api.cluster.TaskContext;
import org.popsolutions.spanker.api.cluster.TaskOutcome;
import org.popsolutions.spanker.api.cluster.TaskParam;

/**
 * The Linqu test programs as kernels that orchestrate the level below: each level above L4 hands its share to its
 * children (daemons above L3 dispatch downward), L4 pods run the real work on their L3 hosts.
 */
final class Programs {
    static final String TOPOLOGY = "linqu.topology";
    static final String DAG = "linqu.dag";
    static final String RING_STRESS = "linqu.ring_stress";
    static final String STATUS = "linqu.status";
    static final String CALL_CHILDREN = "linqu.call_children";
    static final Duration WAIT = Duration.ofMinutes(10);

    private Programs() {
    }

    static void registerAll(TaskServices services, Layout layout) {
        services.register(TOPOLOGY, Programs::topology);
        services.register(DAG, Programs::dag);
        services.register(RING_STRESS, Programs::ringStress);
        services.register(CALL_CHILDREN, Programs::callChildren);
    }

    /** Registered per node (it answers from that node's membership view). */
    static byte[] status(Membership membership) {
        List<NodeInfo> nodes = membership.all();
        ByteBuffer buffer = ByteBuffer.allocate(4 + nodes.size() * 21);
        buffer.putInt(nodes.size());
        for (NodeInfo node : nodes) {
            buffer.putLong(node.coordinate().pack()).putInt(node.port()).putLong(node.pid())
                    .put((byte) node.state().ordinal());
        }
        return buffer.array();
    }

    /** Every L3 host's identity record, gathered through the hierarchy: u32 count, then the records. */
    private static byte[] topology(TaskContext context) {
        Orchestrator orchestrator = context.orchestrator();
        List<Coordinate> children = orchestrator.children();
        if (children.isEmpty()) {
            throw new ClusterException(context.self() + " has no live children");
        }
        String kernel = context.self().level() == Level.POD ? Kernels.IDENTITY : TOPOLOGY;
        List<byte[]> parts = runGroup(orchestrator, children, kernel, List.of(), FailurePolicy.FAIL);
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        int count = 0;
        for (byte[] part : parts) {
            if (kernel.equals(Kernels.IDENTITY)) {
                records.writeBytes(part);
                count++;
            } else {
                ByteBuffer buffer = ByteBuffer.wrap(part);
                count += buffer.getInt();
                records.writeBytes(java.util.Arrays.copyOfRange(part, 4, part.length));
            }
        }
        return ByteBuffer.allocate(4 + records.size()).putInt(count).put(records.toByteArray()).array();
    }

    /** Runs one task group over {@code children} in its own scope and returns each sub-task's result. */
    private static List<byte[]> runGroup(Orchestrator orchestrator, List<Coordinate> children, String kernel,
            List<List<TaskParam>> params, FailurePolicy policy) {
        List<List<TaskParam>> lists = params.isEmpty() ? children.stream().map(c -> List.<TaskParam>of()).toList()
                : params;
        orchestrator.scopeBegin();
        long id;
        try {
            id = orchestrator.submitTaskGroup(children, kernel, lists, policy);
        } finally {
            orchestrator.scopeEnd();
        }
        orchestrator.waitAll(WAIT);
        TaskOutcome outcome = orchestrator.outcome(id);
        if (!outcome.succeeded()) {
            throw new ClusterException(outcome.error());
        }
        return Kernels.parts(outcome.result(), children.size());
    }

    /**
     * f[i] = (a+b+1)(a+b+2) + (a+b) for i in [from, from+count), a = i, b = 2i, chunked; above L4 the range is split
     * over the children, on an L4 pod every chunk is five dependent tasks on different hosts.
     */
    private static byte[] dag(TaskContext context) {
        long from = context.params().get(0).scalar();
        long count = context.params().get(1).scalar();
        int chunk = (int) context.params().get(2).scalar();
        if (count < 0 || chunk < 1 || chunk > 8192) {
            throw new IllegalArgumentException("dag needs count >= 0 and chunk 1..8192, got " + count + ", " + chunk);
        }
        Orchestrator orchestrator = context.orchestrator();
        List<Coordinate> children = orchestrator.children();
        if (children.isEmpty()) {
            throw new ClusterException(context.self() + " has no live children");
        }
        if (context.self().level() != Level.POD) {
            List<Coordinate> targets = new ArrayList<>();
            List<List<TaskParam>> params = new ArrayList<>();
            for (int i = 0; i < children.size(); i++) {
                long start = from + count * i / children.size();
                long end = from + count * (i + 1) / children.size();
                targets.add(children.get(i));
                params.add(List.of(TaskParam.scalar(start), TaskParam.scalar(end - start), TaskParam.scalar(chunk)));
            }
            ByteArrayOutputStream joined = new ByteArrayOutputStream();
            for (byte[] part : runGroup(orchestrator, targets, DAG, params, FailurePolicy.RERUN_ON_SIBLING)) {
                joined.writeBytes(part);
            }
            return joined.toByteArray();
        }
        return podDag(orchestrator, children, from, count, chunk);
    }

    /** Attempts per chunk: a chunk whose tasks or data were lost with a dead host runs again on the live ones. */
    static final int DAG_ATTEMPTS = 3;
    private static final int DAG_BATCH = 256;

    private static byte[] podDag(Orchestrator orchestrator, List<Coordinate> firstHosts, long from, long count,
            int chunk) {
        int chunks = (int) ((count + chunk - 1) / chunk);
        byte[][] results = new byte[chunks][];
        List<Integer> pending = new ArrayList<>();
        for (int k = 0; k < chunks; k++) {
            pending.add(k);
        }
        String lastError = null;
        List<Coordinate> hosts = firstHosts;
        for (int attempt = 1; attempt <= DAG_ATTEMPTS && !pending.isEmpty(); attempt++) {
            if (attempt > 1) {
                hosts = orchestrator.children();
                if (hosts.isEmpty()) {
                    break;
                }
            }
            List<Integer> failed = new ArrayList<>();
            // In batches, so the outcomes asked for are still kept when they are read (the ring keeps the last 4096).
            for (int batch = 0; batch < pending.size(); batch += DAG_BATCH) {
                java.util.Map<Integer, Long> reads = new java.util.LinkedHashMap<>();
                for (int k : pending.subList(batch, Math.min(pending.size(), batch + DAG_BATCH))) {
                    long start = from + (long) k * chunk;
                    int length = (int) Math.min(chunk, from + count - start);
                    try {
                        reads.put(k, submitChunk(orchestrator, hosts, k, start, length));
                    } catch (ClusterException e) {
                        failed.add(k);
                        lastError = e.getMessage();
                    }
                }
                orchestrator.waitAll(WAIT);
                for (java.util.Map.Entry<Integer, Long> read : reads.entrySet()) {
                    TaskOutcome outcome = orchestrator.outcome(read.getValue());
                    if (outcome.succeeded()) {
                        results[read.getKey()] = outcome.result();
                    } else {
                        failed.add(read.getKey());
                        lastError = outcome.error();
                    }
                }
            }
            pending = failed;
        }
        if (!pending.isEmpty()) {
            throw new ClusterException(pending.size() + " of " + chunks + " chunks failed after " + DAG_ATTEMPTS
                    + " attempts; the last error: " + lastError);
        }
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        for (byte[] part : results) {
            f.writeBytes(part);
        }
        return f.toByteArray();
    }

    /** One chunk's six tasks on four hosts in its own scope; returns the id of the task that reads f back. */
    private static long submitChunk(Orchestrator orchestrator, List<Coordinate> hosts, int k, long start,
            int length) {
        int bytes = length * 8;
        long[] a = new long[length];
        long[] b = new long[length];
        for (int i = 0; i < length; i++) {
            a[i] = start + i;
            b[i] = 2 * (start + i);
        }
        int h = hosts.size();
        Coordinate h0 = hosts.get(k % h);
        Coordinate h1 = hosts.get((k + 1) % h);
        Coordinate h2 = hosts.get((k + 2) % h);
        Coordinate h3 = hosts.get((k + 3) % h);
        FailurePolicy policy = FailurePolicy.RERUN_ON_SIBLING;
        orchestrator.scopeBegin();
        try {
            long ta = orchestrator.allocTensor(h0, bytes);
            long tb = orchestrator.allocTensor(h1, bytes);
            long tc = orchestrator.allocTensor(h0, bytes);
            long td = orchestrator.allocTensor(h1, bytes);
            long te = orchestrator.allocTensor(h2, bytes);
            long tg = orchestrator.allocTensor(h3, bytes);
            long tf = orchestrator.allocTensor(h0, bytes);
            orchestrator.regData(h0, ta, Longs.toBytes(a));
            orchestrator.regData(h1, tb, Longs.toBytes(b));
            orchestrator.submitTask(h0, Kernels.ADD,
                    List.of(TaskParam.input(ta), TaskParam.input(tb), TaskParam.output(tc)), policy);
            orchestrator.submitTask(h1, Kernels.ADD_SCALAR,
                    List.of(TaskParam.input(tc), TaskParam.scalar(1), TaskParam.output(td)), policy);
            orchestrator.submitTask(h2, Kernels.ADD_SCALAR,
                    List.of(TaskParam.input(tc), TaskParam.scalar(2), TaskParam.output(te)), policy);
            orchestrator.submitTask(h3, Kernels.MUL,
                    List.of(TaskParam.input(td), TaskParam.input(te), TaskParam.output(tg)), policy);
            orchestrator.submitTask(h0, Kernels.ADD,
                    List.of(TaskParam.input(tg), TaskParam.input(tc), TaskParam.output(tf)), policy);
            long read = orchestrator.submitTask(h1, Kernels.READ, List.of(TaskParam.input(tf)), policy);
            // Early frees: the tasks already submitted keep what they need until they retire.
            for (long tensor : new long[] {ta, tb, tc, td, te, tg, tf}) {
                orchestrator.freeTensor(tensor);
            }
            return read;
        } finally {
            orchestrator.scopeEnd();
        }
    }

    /** Forwards to the first live child down to an L4 pod, which stresses its own rings. */
    private static byte[] ringStress(TaskContext context) {
        Orchestrator orchestrator = context.orchestrator();
        List<Coordinate> children = orchestrator.children();
        if (children.isEmpty()) {
            throw new ClusterException(context.self() + " has no live children");
        }
        if (context.self().level() != Level.POD) {
            return runGroup(orchestrator, List.of(children.get(0)), RING_STRESS, List.of(List.of()),
                    FailurePolicy.FAIL).get(0);
        }
        return RingStress.run(context.self(), orchestrator, children);
    }

    /**
     * Calls a kernel named by the SCALAR parameters (its UTF-8 name packed 8 bytes per scalar, the last scalar the
     * argument) on every live child and returns their results joined; children lacking its code get it shipped.
     */
    private static byte[] callChildren(TaskContext context) {
        List<TaskParam> params = context.params();
        ByteArrayOutputStream name = new ByteArrayOutputStream();
        for (int i = 0; i < params.size() - 1; i++) {
            name.writeBytes(ByteBuffer.allocate(8).putLong(params.get(i).scalar()).array());
        }
        String kernel = new String(name.toByteArray(), StandardCharsets.UTF_8).replace("\0", "");
        long argument = params.get(params.size() - 1).scalar();
        Orchestrator orchestrator = context.orchestrator();
        List<Coordinate> children = orchestrator.children();
        List<List<TaskParam>> lists = children.stream().map(c -> List.of(TaskParam.scalar(argument))).toList();
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (byte[] part : runGroup(orchestrator, children, kernel, lists, FailurePolicy.FAIL)) {
            joined.writeBytes(part);
        }
        return joined.toByteArray();
    }

    /** Packs a kernel name into scalars for {@link #CALL_CHILDREN}. */
    static List<TaskParam> packName(String kernel, long argument) {
        byte[] utf8 = kernel.getBytes(StandardCharsets.UTF_8);
        List<TaskParam> params = new ArrayList<>();
        for (int i = 0; i < utf8.length; i += 8) {
            byte[] word = java.util.Arrays.copyOfRange(utf8, i, i + 8);
            params.add(TaskParam.scalar(ByteBuffer.wrap(word).getLong()));
        }
        params.add(TaskParam.scalar(argument));
        return params;
    }

    static long[] statsArray(RingStats stats) {
        return new long[] {stats.submitted(), stats.retired(), stats.failed(), stats.rerun(), stats.ringWaits(),
            stats.heapWaits(), stats.poolWaits(), stats.tensorMapWaits(), stats.inFlight(), stats.heapUsed(),
            stats.poolUsed(), stats.liveTensors()};
    }
}
