package org.popsolutions.spanker.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.popsolutions.spanker.api.collective.CollectiveOutcome;
import org.popsolutions.spanker.api.collective.CollectiveRequest;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.device.mock.MockCardProvider;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;
import org.popsolutions.spanker.scheduler.link.LinkCalculator;

/**
 * Unshaped in-process AllReduce (sum) of {@code bytes} per card on a ring of {@code cards}, through the
 * scheduler's ScheduledCollectives; bus bytes per second as nccl-tests define busbw (algbw · 2(p−1)/p). The
 * whole call is timed (scheduling and thread hand-offs included); the buffers are reset before each call,
 * outside the timing. Compare with {@link MemcpyBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms3g", "-Xmx3g"})
public class CollectiveBenchmark {
    @Param({"RING", "AUTO"})
    public String algorithm;

    @Param("4")
    public int cards;

    @Param("67108864")
    public int bytes;

    private ScheduledCollectives engine;
    private Topology topology;
    private float[][] pristine;
    private List<float[]> buffers;
    private long busBytesPerCall;

    @Setup(Level.Trial)
    public void setUp() {
        engine = new ScheduledCollectives(new LinkCalculator(LinkParameters.REV_A), new MockCardProvider());
        topology = Topology.uniform(TopologyKind.RING, cards, "bench", 0, 500_000_000L, 1e-6);
        int n = bytes / Float.BYTES;
        pristine = new float[cards][n];
        buffers = new ArrayList<>();
        for (int card = 0; card < cards; card++) {
            for (int i = 0; i < n; i++) {
                pristine[card][i] = (i % 1000) * 0.001f + card;
            }
            buffers.add(new float[n]);
        }
        busBytesPerCall = Math.round((double) n * Float.BYTES * CollectiveKind.ALL_REDUCE.busBandwidthFactor(cards));
    }

    @Setup(Level.Invocation)
    public void resetBuffers() {
        for (int card = 0; card < cards; card++) {
            System.arraycopy(pristine[card], 0, buffers.get(card), 0, pristine[card].length);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public CollectiveOutcome allReduce(ByteCounter counter) {
        CollectiveOutcome outcome = engine.run(CollectiveRequest.of(CollectiveKind.ALL_REDUCE, ReduceOp.SUM, topology,
                buffers, CollectiveAlgorithm.valueOf(algorithm)));
        counter.bytes += busBytesPerCall;
        return outcome;
    }
}
