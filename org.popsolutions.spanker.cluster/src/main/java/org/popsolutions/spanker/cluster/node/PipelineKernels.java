package org.popsolutions.spanker.cluster.node;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.FailurePolicy;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.Orchestrator;
import org.popsolutions.spanker.api.cluster.ParamType;
import org.popsolutions.spanker.api.cluster.TaskContext;
import org.popsolutions.spanker.api.cluster.TaskOutcome;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.runtime.LoadedStage;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.PipelineStage;
import org.popsolutions.spanker.api.runtime.StageLoad;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.LlamaConfig;
import org.popsolutions.spanker.model.llama.ManualPlans;

/**
 * A llama model as a pipeline across the L3 hosts of one pod. The pod (L4) orchestrates through its task ring:
 * {@value #LOAD} puts stage i on its i-th live host, where {@value #STAGE_LOAD} loads the stage's blocks on the host's
 * own cards through the inference service of the host's card runtime ({@link HostRuntime}: mock cards, or the
 * host's own emulated Sails cards); {@value #FORWARD} runs one token as one task per
 * host, each stage's OUTPUT tensor (the hidden state, float32 big-endian) the next stage's INPUT, so the next host
 * fetches it from the previous one over the data plane (TENSOR_LOOKUP), and the last host returns the logits;
 * {@value #CLOSE} frees the hosts' cards. A host runs one pipeline stage at a time: loading another replaces it.
 */
final class PipelineKernels {
    static final String LOAD = "spanker.pipeline.load";
    static final String FORWARD = "spanker.pipeline.forward";
    static final String CLOSE = "spanker.pipeline.close";
    static final String STAGE_LOAD = "spanker.pipeline.stage_load";
    static final String STAGE = "spanker.pipeline.stage";
    static final String STAGE_CLOSE = "spanker.pipeline.stage_close";

    /** The hosts a pod put a pipeline's stages on, by session id. */
    private static final Map<Long, PodSession> PODS = new ConcurrentHashMap<>();
    /** The stage each host node runs (one per host node; nodes of one process share this map). */
    private static final Map<Coordinate, HostSession> HOSTS = new ConcurrentHashMap<>();

    private record PodSession(Coordinate pod, List<Coordinate> hosts, PipelineSpec spec, int embedding,
            int vocabulary) {
    }

    private static final class HostSession {
        final long id;
        final int index;
        final LoadedStage stage;
        final float[] in;
        final float[] out;
        final ByteBuffer outBytes;

        HostSession(long id, int index, LoadedStage stage) {
            this.id = id;
            this.index = index;
            this.stage = stage;
            this.in = stage.inputs() == 0 ? null : new float[stage.inputs()];
            this.out = new float[stage.outputs()];
            this.outBytes = ByteBuffer.allocate(stage.outputs() * Float.BYTES);
        }

        void close() {
            stage.close();
        }
    }

    /** Each host node's card runtime, started at its first stage load and kept while the host lives. */
    private static final Map<Coordinate, HostRuntime> RUNTIMES = new ConcurrentHashMap<>();
    /** Where a host keeps its card runtime's files and fleet: the cluster's run directory. */
    private static volatile Path runDirectory;

    private PipelineKernels() {
    }

    static void registerAll(TaskServices services, Path directory) {
        runDirectory = directory;
        services.register(LOAD, PipelineKernels::load);
        services.register(FORWARD, PipelineKernels::forward);
        services.register(CLOSE, PipelineKernels::close);
        services.register(STAGE_LOAD, PipelineKernels::stageLoad);
        services.register(STAGE, PipelineKernels::stage);
        services.register(STAGE_CLOSE, PipelineKernels::stageClose);
    }

    private static void requireLevel(TaskContext context, Level level, String kernel) {
        if (context.self().level() != level) {
            throw new ClusterException(kernel + " runs on L" + level.number() + " nodes; " + context.self() + " is L"
                    + context.self().level().number());
        }
    }

    // ------------------------------------------------------------------ on the pod

    /**
     * SCALAR session, INPUT spec: per stage u64 host, u64 pid, u64 weight bytes, u64 KV cache bytes, u8 the cards it
     * runs on (0 mock, 1 sails, 255 another provider).
     */
    private static byte[] load(TaskContext context) {
        requireLevel(context, Level.POD, LOAD);
        long session = context.params().get(0).scalar();
        byte[] specBytes = context.input(1);
        PipelineSpec spec = PipelineSpec.decode(specBytes);
        Orchestrator orchestrator = context.orchestrator();
        List<Coordinate> live = orchestrator.children();
        int k = spec.stages().size();
        if (live.size() < k) {
            throw new ClusterException("the pipeline needs " + k + " live hosts and pod " + context.self() + " has "
                    + live.size());
        }
        List<Coordinate> hosts = List.copyOf(live.subList(0, k));
        Duration timeout = Duration.ofSeconds(spec.timeoutSeconds());
        long[] ids = new long[k];
        orchestrator.scopeBegin();
        try {
            for (int i = 0; i < k; i++) {
                long tensor = orchestrator.allocTensor(hosts.get(i), specBytes.length);
                orchestrator.regData(hosts.get(i), tensor, specBytes);
                ids[i] = orchestrator.submitTask(hosts.get(i), STAGE_LOAD, List.of(TaskParam.scalar(session),
                        TaskParam.scalar(i), TaskParam.input(tensor)), FailurePolicy.FAIL);
            }
        } finally {
            orchestrator.scopeEnd();
        }
        orchestrator.waitAll(timeout);
        ByteBuffer result = ByteBuffer.allocate(k * 33);
        int embedding = 0;
        int vocabulary = 0;
        for (int i = 0; i < k; i++) {
            TaskOutcome outcome = orchestrator.outcome(ids[i]);
            if (!outcome.succeeded()) {
                closeHosts(orchestrator, hosts, session, timeout);
                throw new ClusterException("loading stage " + i + " (blocks " + spec.stages().get(i).first() + ".."
                        + (spec.stages().get(i).end() - 1) + ") on host " + hosts.get(i) + " failed: "
                        + outcome.error());
            }
            ByteBuffer answer = ByteBuffer.wrap(outcome.result());
            result.putLong(hosts.get(i).pack()).putLong(answer.getLong()).putLong(answer.getLong())
                    .putLong(answer.getLong());
            embedding = answer.getInt();
            vocabulary = answer.getInt();
            result.put(answer.get());
        }
        PODS.put(session, new PodSession(context.self(), hosts, spec, embedding, vocabulary));
        return result.array();
    }

    /**
     * SCALAR session, SCALAR token, SCALAR position: u32 stage count, u64 nanoseconds per stage (its host's forward
     * pass), the logits as float32 big-endian.
     */
    private static byte[] forward(TaskContext context) {
        requireLevel(context, Level.POD, FORWARD);
        long sessionId = context.params().get(0).scalar();
        long token = context.params().get(1).scalar();
        long position = context.params().get(2).scalar();
        PodSession session = PODS.get(sessionId);
        if (session == null || !session.pod().equals(context.self())) {
            throw new ClusterException("pipeline " + Long.toHexString(sessionId) + " is not loaded on "
                    + context.self() + " (closed, or never loaded here)");
        }
        Orchestrator orchestrator = context.orchestrator();
        int k = session.hosts().size();
        long[] ids = new long[k];
        orchestrator.scopeBegin();
        try {
            long previous = 0;
            for (int i = 0; i < k; i++) {
                Coordinate host = session.hosts().get(i);
                List<TaskParam> params = new ArrayList<>(List.of(TaskParam.scalar(sessionId), TaskParam.scalar(token),
                        TaskParam.scalar(position)));
                if (previous != 0) {
                    params.add(TaskParam.input(previous));
                }
                long output = 0;
                if (i < k - 1) {
                    output = orchestrator.allocTensor(host, session.embedding() * Float.BYTES);
                    params.add(TaskParam.output(output));
                }
                try {
                    ids[i] = orchestrator.submitTask(host, STAGE, params, FailurePolicy.FAIL);
                } catch (ClusterException e) {
                    throw new ClusterException(describe(session, i) + ": " + e.getMessage());
                }
                previous = output;
            }
        } finally {
            orchestrator.scopeEnd();
        }
        orchestrator.waitAll(Duration.ofSeconds(session.spec().timeoutSeconds()));
        ByteBuffer result = ByteBuffer.allocate(4 + 8 * k + session.vocabulary() * Float.BYTES);
        result.putInt(k);
        byte[] logits = null;
        for (int i = 0; i < k; i++) {
            TaskOutcome outcome = orchestrator.outcome(ids[i]);
            if (!outcome.succeeded()) {
                int dead = firstDeadHost(orchestrator, session);
                throw new ClusterException((dead < 0 || dead == i ? "" : "host " + session.hosts().get(dead)
                        + " of the pipeline died (" + describe(session, dead) + "); ") + describe(session, i) + ": "
                        + outcome.error());
            }
            ByteBuffer answer = ByteBuffer.wrap(outcome.result());
            result.putLong(answer.getLong());
            if (i == k - 1) {
                logits = new byte[answer.remaining()];
                answer.get(logits);
            }
        }
        if (logits == null || logits.length != session.vocabulary() * Float.BYTES) {
            throw new ClusterException("the last stage on " + session.hosts().get(k - 1) + " returned "
                    + (logits == null ? 0 : logits.length) + " bytes of logits, expected "
                    + session.vocabulary() * Float.BYTES);
        }
        return result.put(logits).array();
    }

    /**
     * A stage fails when its host dies, and so does the next one when the hidden state it needs died with the
     * previous host: the first dead host of the pipeline (or -1) leads the message.
     */
    private static int firstDeadHost(Orchestrator orchestrator, PodSession session) {
        List<Coordinate> live = orchestrator.children();
        for (int i = 0; i < session.hosts().size(); i++) {
            if (!live.contains(session.hosts().get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(PodSession session, int stage) {
        PipelineSpec.Stage s = session.spec().stages().get(stage);
        return "stage " + stage + " (blocks " + s.first() + ".." + (s.end() - 1) + ") on host "
                + session.hosts().get(stage);
    }

    /** SCALAR session: every host of the pipeline frees its cards; a host that died has nothing left to free. */
    private static byte[] close(TaskContext context) {
        requireLevel(context, Level.POD, CLOSE);
        long sessionId = context.params().get(0).scalar();
        PodSession session = PODS.remove(sessionId);
        if (session != null) {
            closeHosts(context.orchestrator(), session.hosts(), sessionId,
                    Duration.ofSeconds(session.spec().timeoutSeconds()));
        }
        return new byte[0];
    }

    private static void closeHosts(Orchestrator orchestrator, List<Coordinate> hosts, long session,
            Duration timeout) {
        orchestrator.scopeBegin();
        try {
            for (Coordinate host : hosts) {
                try {
                    orchestrator.submitTask(host, STAGE_CLOSE, List.of(TaskParam.scalar(session)),
                            FailurePolicy.FAIL);
                } catch (ClusterException e) {
                    // A dead host freed its cards with its process.
                }
            }
        } finally {
            orchestrator.scopeEnd();
        }
        orchestrator.waitAll(timeout);
    }

    // ------------------------------------------------------------------ on a host

    /**
     * SCALAR session, SCALAR stage index, INPUT spec: u64 pid, u64 weight bytes, u64 KV bytes, u32 e, u32 vocab, u8
     * the provider of the cards it runs on (as {@link #load} answers it).
     */
    private static byte[] stageLoad(TaskContext context) {
        requireLevel(context, Level.HOST, STAGE_LOAD);
        long session = context.params().get(0).scalar();
        int index = (int) context.params().get(1).scalar();
        PipelineSpec spec = PipelineSpec.decode(context.input(2));
        if (index < 0 || index >= spec.stages().size()) {
            throw new IllegalArgumentException("stage " + index + " of a " + spec.stages().size() + "-stage pipeline");
        }
        PipelineSpec.Stage stage = spec.stages().get(index);
        Coordinate self = context.self();
        synchronized (lockOf(self)) {
            HostSession previous = HOSTS.remove(self);
            if (previous != null) {
                synchronized (previous) {
                    previous.close();
                }
            }
            GgufFile file = GgufReader.open(Path.of(spec.model()));
            LlamaConfig config = LlamaConfig.of(file);
            Plan plan = ManualPlans.stage(GgufModelReader.shapeOf(file), spec.cardsPerHost(), stage.first(),
                    stage.end(), stage.embeds(), stage.head(), spec.contextLength());
            Duration timeout = Duration.ofSeconds(spec.timeoutSeconds());
            HostRuntime runtime = runtimeFor(self, spec.device(), spec.cardsPerHost(), timeout);
            runtime.awaitCards(timeout);
            Topology cards = Topology.uniform(TopologyKind.RING, spec.cardsPerHost(), spec.device(),
                    PlanOptions.REV_A_CARD_MEMORY, BandwidthModel.INTERCARD_BW, 0);
            ModelLoad model = new ModelLoad(Path.of(spec.model()), plan, cards, spec.floatActivations()
                    ? ActivationMode.FLOAT : ActivationMode.GGML, spec.threadsPerCard(), spec.contextLength(),
                    CollectiveAlgorithm.AUTO);
            LoadedStage loaded = runtime.inference(timeout).loadStage(new StageLoad(model, new PipelineStage(
                    stage.first(), stage.end(), stage.embeds(), stage.head()), spec.device()));
            HOSTS.put(self, new HostSession(session, index, loaded));
            return ByteBuffer.allocate(33).putLong(context.pid()).putLong(sum(loaded.weightBytesPerCard()))
                    .putLong(sum(loaded.kvCacheBytesPerCard())).putInt(config.embedding())
                    .putInt(config.vocabulary()).put((byte) PipelineSpec.deviceCode(loaded.cardProvider())).array();
        }
    }

    private static final Map<Coordinate, Object> LOCKS = new ConcurrentHashMap<>();

    private static Object lockOf(Coordinate host) {
        return LOCKS.computeIfAbsent(host, h -> new Object());
    }

    /** The host's card runtime for {@code device}; a fleet of another size is stopped and a new one started. */
    private static HostRuntime runtimeFor(Coordinate host, String device, int cards, Duration timeout) {
        HostRuntime current = RUNTIMES.get(host);
        if (current != null && current.fits(device, cards)) {
            return current;
        }
        if (current != null) {
            RUNTIMES.remove(host, current);
            current.close();
        }
        Path directory = runDirectory;
        if (directory == null) {
            throw new ClusterException(host + " has no run directory for its card runtime");
        }
        HostRuntime started = HostRuntime.start(device, cards, directory.resolve("hosts").resolve(
                Long.toHexString(host.pack())), timeout);
        RUNTIMES.put(host, started);
        return started;
    }

    /** Frees every stage and stops every host's card runtime of this process (its fleets end): the process ends. */
    static void closeAll() {
        for (Coordinate host : List.copyOf(HOSTS.keySet())) {
            HostSession session = HOSTS.remove(host);
            if (session != null) {
                synchronized (session) {
                    session.close();
                }
            }
        }
        for (Coordinate host : List.copyOf(RUNTIMES.keySet())) {
            HostRuntime runtime = RUNTIMES.remove(host);
            if (runtime != null) {
                runtime.close();
            }
        }
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long v : values) {
            total += v;
        }
        return total;
    }

    /**
     * SCALAR session, SCALAR token, SCALAR position, [INPUT hidden], [OUTPUT hidden]: runs the host's stage; returns
     * u64 nanoseconds, then (the last stage) the logits.
     */
    private static byte[] stage(TaskContext context) {
        requireLevel(context, Level.HOST, STAGE);
        List<TaskParam> params = context.params();
        long sessionId = params.get(0).scalar();
        HostSession session = HOSTS.get(context.self());
        if (session == null || session.id != sessionId) {
            throw new ClusterException(context.self() + " holds no stage of pipeline " + Long.toHexString(sessionId)
                    + " (it was closed or replaced by another)");
        }
        synchronized (session) {
            int input = -1;
            int output = -1;
            for (int i = 3; i < params.size(); i++) {
                if (params.get(i).type() == ParamType.INPUT) {
                    input = i;
                } else if (params.get(i).type() == ParamType.OUTPUT) {
                    output = i;
                }
            }
            if ((input >= 0) != (session.in != null)) {
                throw new IllegalArgumentException("stage " + session.index + (session.in == null
                        ? " embeds the token and takes no hidden state" : " needs the hidden state as an INPUT"));
            }
            if (input >= 0) {
                ByteBuffer hidden = ByteBuffer.wrap(context.input(input));
                if (hidden.remaining() != session.in.length * Float.BYTES) {
                    throw new IllegalArgumentException("the hidden state is " + hidden.remaining() + " bytes, expected "
                            + session.in.length * Float.BYTES);
                }
                hidden.asFloatBuffer().get(session.in);
            }
            long begin = System.nanoTime();
            session.stage.forward((int) params.get(1).scalar(), (int) params.get(2).scalar(), session.in,
                    session.out);
            long nanos = System.nanoTime() - begin;
            session.outBytes.clear();
            session.outBytes.asFloatBuffer().put(session.out);
            if (output >= 0) {
                context.output(output, session.outBytes.array());
                return ByteBuffer.allocate(8).putLong(nanos).array();
            }
            return ByteBuffer.allocate(8 + session.outBytes.capacity()).putLong(nanos).put(session.outBytes.array())
                    .array();
        }
    }

    /** SCALAR session: frees this host's cards if it still runs that pipeline's stage. */
    private static byte[] stageClose(TaskContext context) {
        long sessionId = context.params().get(0).scalar();
        HostSession session = HOSTS.get(context.self());
        if (session != null && session.id == sessionId && HOSTS.remove(context.self(), session)) {
            synchronized (session) {
                session.close();
            }
        }
        return new byte[0];
    }
}
