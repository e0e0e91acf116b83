package org.popsolutions.spanker.cluster.control;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.HostPipeline;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.cluster.HostPipelines;
import org.popsolutions.spanker.api.cluster.HostPlan;
import org.popsolutions.spanker.api.cluster.HostStage;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.NodeState;
import org.popsolutions.spanker.api.cluster.ParamType;
import org.popsolutions.spanker.api.cluster.TaskParam;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.cluster.node.PipelineSpec;
import org.popsolutions.spanker.cluster.pipeline.HostPlanner;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.model.llama.GgufModelReader;

/**
 * {@link HostPipelines} on the running cluster: plans with {@link HostPlanner}, picks the pod with the most live
 * hosts, and drives its pipeline kernels as a user program connected to that pod (every token one CALL_TASK; the
 * pod hands the hidden state host to host through its task ring).
 */
@Component(service = HostPipelines.class)
public final class ClusterHostPipelines implements HostPipelines {
    static final String LOAD = "spanker.pipeline.load";
    static final String FORWARD = "spanker.pipeline.forward";
    static final String CLOSE = "spanker.pipeline.close";
    private static final Duration CONNECT = Duration.ofSeconds(3);

    @Reference
    LinkModel links;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile BandwidthModelService bandwidth;

    private final StateFile stateFile;
    /** The framework property the launcher's {@code --device} sets. */
    static final String DEVICE_PROPERTY = "spanker.device";
    private volatile String frameworkDevice = System.getProperty(DEVICE_PROPERTY);

    public ClusterHostPipelines() {
        this(StateFile.standard(), null);
    }

    /** Outside OSGi (tests): the cluster behind {@code stateFile}, costed with {@code links}. */
    public ClusterHostPipelines(StateFile stateFile, LinkModel links) {
        this.stateFile = stateFile;
        this.links = links;
    }

    @Override
    public HostPlan plan(HostPipelineRequest request) {
        BandwidthModelService service = bandwidth;
        BandwidthModel model = service == null ? BandwidthModel.DEFAULT : service.current();
        return HostPlanner.plan(GgufModelReader.shapeOf(GgufReader.open(Path.of(request.model()))), request, links,
                model.localDdrBytesPerSecond());
    }

    @Override
    public HostPipeline open(HostPipelineRequest request) {
        HostPlan plan = plan(request);
        if (plan.pods() > 1) {
            throw new ClusterException("a pipeline across " + plan.pods() + " pods is planned (plan --hosts-per-pod)"
                    + " but runs inside one pod only: a pod orchestrates its own hosts; drop --hosts-per-pod");
        }
        ClusterControl control = new ClusterControl(stateFile);
        ClusterControl.Status status = control.status();
        ClusterControl.NodeStatus pod = podFor(status, request.hosts());
        List<PipelineSpec.Stage> stages = plan.stages().stream()
                .map(s -> new PipelineSpec.Stage(s.firstBlock(), s.endBlock(), s.embedding(), s.head())).toList();
        int timeoutSeconds = (int) Math.min(Integer.MAX_VALUE, Math.max(1, request.timeout().toSeconds()));
        byte[] spec = new PipelineSpec(Path.of(request.model()).toAbsolutePath().toString(), request.cardsPerHost(),
                request.contextLength(), request.floatActivations(), request.threadsPerCard(), timeoutSeconds,
                deviceOf(request), stages).encode();
        long session = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
        // a handle of this program's own, above the ring's (which count up from 1)
        long specHandle = session | Long.MIN_VALUE;
        ClusterClient client = new ClusterClient(pod.port(), pod.coordinate(), CONNECT);
        try {
            Duration call = request.timeout().plusSeconds(30);
            client.store(specHandle, spec, call);
            byte[] loaded = client.call(LOAD, List.of(TaskParam.scalar(session),
                    new TaskParam(ParamType.INPUT, specHandle, pod.coordinate().pack())), call, null);
            client.free(specHandle);
            ByteBuffer answer = ByteBuffer.wrap(loaded);
            List<HostStage> placed = new ArrayList<>();
            List<String> cardsOf = new ArrayList<>();
            for (HostStage stage : plan.stages()) {
                Coordinate host = Coordinate.unpack(answer.getLong());
                long pid = answer.getLong();
                long weights = answer.getLong();
                long kv = answer.getLong();
                String device = PipelineSpec.deviceName(answer.get() & 0xFF);
                cardsOf.add("stage " + stage.index() + " on " + host + " (process " + pid + "): " + stage.cards()
                        + " " + device + " card" + (stage.cards() == 1 ? "" : "s") + (device.equals("sails")
                                ? " of its own (emulated, one process each, owned by the host)" : ""));
                placed.add(new HostStage(stage.index(), stage.firstBlock(), stage.endBlock(), stage.embedding(),
                        stage.head(), stage.cards(), weights, kv, stage.computeSeconds(), stage.linkSeconds(),
                        host.toString(), pid, stage.pod(), stage.handOffSeconds()));
            }
            List<String> notes = new ArrayList<>(plan.notes());
            notes.add("orchestrated by pod " + pod.coordinate() + " (process " + pod.pid() + ")");
            notes.addAll(cardsOf);
            HostPlan placedPlan = new HostPlan(plan.model(), plan.hosts(), plan.cardsPerHost(), placed,
                    plan.handOffBytes(), plan.handOffSeconds(), plan.hostSeconds(), plan.loadSeconds(), notes,
                    plan.crossPodHandOffSeconds(), plan.evenSplitBottleneckSeconds());
            return new Pipeline(client, session, placedPlan, call);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The request's device, else the one this framework was started with ({@code --device sails}), else mock. */
    String deviceOf(HostPipelineRequest request) {
        if (request.device() != null) {
            return request.device();
        }
        String asked = frameworkDevice;
        return HostPipelineRequest.SAILS.equals(asked) ? HostPipelineRequest.SAILS : HostPipelineRequest.MOCK;
    }

    @Activate
    void activate(BundleContext context) {
        frameworkDevice = context.getProperty(DEVICE_PROPERTY);
    }

    /** The pod with the most live hosts, if it has at least {@code hosts}. */
    static ClusterControl.NodeStatus podFor(ClusterControl.Status status, int hosts) {
        Map<Coordinate, Integer> liveHosts = new LinkedHashMap<>();
        Map<Coordinate, ClusterControl.NodeStatus> pods = new LinkedHashMap<>();
        int total = 0;
        for (ClusterControl.NodeStatus node : status.nodes()) {
            if (node.state() != NodeState.LIVE) {
                continue;
            }
            if (node.coordinate().level() == Level.POD) {
                pods.put(node.coordinate(), node);
            } else if (node.coordinate().level() == Level.HOST) {
                liveHosts.merge(node.coordinate().parent(), 1, Integer::sum);
                total++;
            }
        }
        ClusterControl.NodeStatus best = pods.values().stream()
                .max(Comparator.comparingInt(p -> liveHosts.getOrDefault(p.coordinate(), 0))).orElse(null);
        int most = best == null ? 0 : liveHosts.getOrDefault(best.coordinate(), 0);
        if (best == null || most < hosts) {
            throw new ClusterException("--hosts " + hosts + " needs " + hosts + " live L3 hosts in one pod; cluster "
                    + status.name() + " (" + status.layout() + ") has " + total + " live hosts"
                    + (best == null ? " and no live pod" : ", at most " + most + " in one pod (" + best.coordinate()
                            + ")") + "; start a larger one with 'cluster start --l3 " + hosts + "'");
        }
        return best;
    }

    /** A loaded pipeline: one connection to its pod, one call per token. */
    private static final class Pipeline implements HostPipeline {
        private final ClusterClient client;
        private final long session;
        private final HostPlan plan;
        private final Duration timeout;
        private final long[] stageNanos;
        private long wallNanos;
        private int tokens;
        private boolean closed;

        Pipeline(ClusterClient client, long session, HostPlan plan, Duration timeout) {
            this.client = client;
            this.session = session;
            this.plan = plan;
            this.timeout = timeout;
            this.stageNanos = new long[plan.stages().size()];
        }

        @Override
        public HostPlan plan() {
            return plan;
        }

        @Override
        public synchronized void forward(int token, int position, float[] logits) {
            if (closed) {
                throw new IllegalStateException("the pipeline is closed");
            }
            long begin = System.nanoTime();
            ByteBuffer answer = ByteBuffer.wrap(client.call(FORWARD, List.of(TaskParam.scalar(session),
                    TaskParam.scalar(token), TaskParam.scalar(position)), timeout, null));
            int stages = answer.getInt();
            if (stages != stageNanos.length || answer.remaining() != 8L * stages + (long) logits.length * Float.BYTES) {
                throw new ClusterException("the pod answered " + stages + " stages and " + answer.remaining()
                        + " bytes; expected " + stageNanos.length + " stages and " + logits.length + " logits");
            }
            for (int i = 0; i < stages; i++) {
                stageNanos[i] += answer.getLong();
            }
            answer.asFloatBuffer().get(logits);
            wallNanos += System.nanoTime() - begin;
            tokens++;
        }

        @Override
        public synchronized long[] stageNanos() {
            return stageNanos.clone();
        }

        @Override
        public synchronized long wallNanos() {
            return wallNanos;
        }

        @Override
        public synchronized int tokens() {
            return tokens;
        }

        @Override
        public synchronized void resetStats() {
            java.util.Arrays.fill(stageNanos, 0);
            wallNanos = 0;
            tokens = 0;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                client.call(CLOSE, List.of(TaskParam.scalar(session)), timeout, null);
            } catch (ClusterException e) {
                // The pod or its connection is gone; the hosts' stages go with the next load or the cluster.
            } finally {
                client.close();
            }
        }
    }
}
