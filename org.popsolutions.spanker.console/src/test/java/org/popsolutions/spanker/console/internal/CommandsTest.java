package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.ShapeMismatchException;
import org.popsolutions.spanker.api.TopologyMismatchException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.collective.Collectives;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.strategy.CandidateCost;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.api.strategy.Strategy;
import org.popsolutions.spanker.api.strategy.StrategyDecision;
import org.popsolutions.spanker.api.strategy.TileShape;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;

/** The commands against small fakes of the services they use. */
class CommandsTest {

    static final class FakeBandwidth implements BandwidthModelService {
        BandwidthModel model = BandwidthModel.DEFAULT;

        @Override
        public BandwidthModel current() {
            return model;
        }

        @Override
        public String source() {
            return "fake";
        }

        @Override
        public Optional<String> lastRejection() {
            return Optional.empty();
        }
    }

    /** Records what it was asked and answers like the bandwidth rule's shape. */
    static final class RecordingStrategy implements PartitionStrategy {
        TileShape tile;
        int cards;
        BandwidthModel model;

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public StrategyDecision pick(TileShape tile, int cards, BandwidthModel model) {
            this.tile = tile;
            this.cards = cards;
            this.model = model;
            return new StrategyDecision(Strategy.MODEL_PARALLEL, List.of(new CandidateCost(Strategy.TENSOR_PARALLEL,
                    2.304e-5), new CandidateCost(Strategy.MODEL_PARALLEL, 7.68e-6)), name());
        }
    }

    /** A minimal correct collective, so the command's parsing and output are what is tested. */
    static final class SimpleCollectives implements Collectives {
        @Override
        public void allReduce(Topology topology, ReduceOp op, List<float[]> buffers) {
            if (buffers.size() != topology.cardCount()) {
                throw new TopologyMismatchException(topology.cardCount(), buffers.size());
            }
            for (int c = 1; c < buffers.size(); c++) {
                if (buffers.get(c).length != buffers.get(0).length) {
                    throw new ShapeMismatchException(c, buffers.get(0).length, buffers.get(c).length);
                }
            }
            float[] sum = new float[buffers.get(0).length];
            buffers.forEach(b -> {
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += b[i];
                }
            });
            buffers.forEach(b -> System.arraycopy(sum, 0, b, 0, sum.length));
        }

        @Override
        public float[] allGather(Topology topology, List<float[]> buffers) {
            List<Float> all = new ArrayList<>();
            buffers.forEach(b -> {
                for (float v : b) {
                    all.add(v);
                }
            });
            float[] out = new float[all.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = all.get(i);
            }
            return out;
        }
    }

    private static JsonObject json(CommandResult result) {
        assertTrue(result.isJson());
        return JsonParser.parseString(result.json()).getAsJsonObject();
    }

    private PickCommand pick(RecordingStrategy strategy) {
        PickCommand pick = new PickCommand();
        pick.strategy = strategy;
        pick.bandwidth = new FakeBandwidth();
        return pick;
    }

    @Test
    void pickPassesTheTileAndPrintsTheIssuesJson() {
        RecordingStrategy strategy = new RecordingStrategy();
        JsonObject out = json(pick(strategy).execute(
                List.of("--m", "1", "--n", "5632", "--k", "2048", "--bpe", "2", "--cards", "4", "--json")));
        assertEquals(new TileShape(1, 5632, 2048, 2), strategy.tile);
        assertEquals(4, strategy.cards);
        assertEquals("ModelParallel", out.get("strategy").getAsString());
        assertEquals(2.304e-5, out.get("tpSeconds").getAsDouble());
        assertEquals(7.68e-6, out.get("mpSeconds").getAsDouble());
        assertEquals("recording", out.get("decidedBy").getAsString());
    }

    @Test
    void pickBandwidthOverridesReplaceTheConfiguredTiers() {
        RecordingStrategy strategy = new RecordingStrategy();
        pick(strategy).execute(List.of("--m", "1", "--n", "2", "--k", "3", "--cards", "2", "--ddr", "0",
                "--intercard", "600000000"));
        assertEquals(new BandwidthModel(0, 600_000_000L, BandwidthModel.HOST_LINK_BW), strategy.model);
        assertEquals(2, strategy.tile.bytesPerElement());
    }

    @Test
    void pickWithoutTopologyOrCardsIsAUsageError() {
        UsageException e = assertThrows(UsageException.class,
                () -> pick(new RecordingStrategy()).execute(List.of("--m", "1", "--n", "1", "--k", "1")));
        assertTrue(e.getMessage().contains("--cards"), e.getMessage());
    }

    @Test
    void pickTableNamesTheChosenStrategy() {
        CommandResult result = pick(new RecordingStrategy())
                .execute(List.of("--m", "1", "--n", "5632", "--k", "2048", "--cards", "4"));
        assertFalse(result.isJson());
        assertEquals(List.of("ModelParallel", "7.680e-06", "*"), result.tables().get(0).rows().get(1));
    }

    @Test
    void allReduceCardCountIsTheNumberOfBuffers() {
        AllReduceCommand command = new AllReduceCommand();
        command.collectives = new SimpleCollectives();
        JsonObject out = json(command.execute(List.of("--op", "sum", "--buffers", "1,2,3;10,20,30", "--json")));
        JsonArray cards = out.getAsJsonArray("cards");
        assertEquals(2, cards.size());
        assertEquals("[11.0,22.0,33.0]", cards.get(0).toString());
        assertEquals("[11.0,22.0,33.0]", cards.get(1).toString());
    }

    @Test
    void allReduceExplicitCardCountReachesTheCollective() {
        AllReduceCommand command = new AllReduceCommand();
        command.collectives = new SimpleCollectives();
        assertThrows(TopologyMismatchException.class,
                () -> command.execute(List.of("--buffers", "1;2", "--cards", "3")));
        assertThrows(ShapeMismatchException.class, () -> command.execute(List.of("--buffers", "1,2;3")));
    }

    @Test
    void allReduceRejectsMalformedBuffersAsUsage() {
        AllReduceCommand command = new AllReduceCommand();
        command.collectives = new SimpleCollectives();
        UsageException e = assertThrows(UsageException.class, () -> command.execute(List.of("--buffers", "1,x;2,3")));
        assertTrue(e.getMessage().contains("'x'"), e.getMessage());
        assertThrows(UsageException.class, () -> command.execute(List.of("--buffers", "1;2", "--op", "mean")));
    }

    @Test
    void allGatherPrintsTheConcatenation() {
        AllGatherCommand command = new AllGatherCommand();
        command.collectives = new SimpleCollectives();
        JsonObject out = json(command.execute(List.of("--buffers", "1,2;3,4", "--json")));
        assertEquals("[1.0,2.0,3.0,4.0]", out.get("result").toString());
    }

    @Test
    void topologyReportListsCardsAndLinksLocalMajor() {
        Topology ring = SyntheticTopology.of(TopologyKind.RING, 4);
        JsonObject out = JsonParser.parseString(
                org.popsolutions.spanker.console.support.Json.write(TopologyCommand.report(ring).json()))
                .getAsJsonObject();
        assertEquals("RING", out.get("kind").getAsString());
        assertEquals("[0,1,2,3]", out.get("cards").toString());
        JsonObject first = out.getAsJsonArray("links").get(0).getAsJsonObject();
        assertEquals(0, first.get("from").getAsInt());
        assertEquals(1, first.get("to").getAsInt());
        assertEquals("UP", first.get("state").getAsString());
        assertEquals(8, out.getAsJsonArray("links").size());
    }

    @Test
    void bandwidthListsTiersAndInvariants() {
        BandwidthCommand command = new BandwidthCommand();
        command.bandwidth = new FakeBandwidth();
        JsonObject out = json(command.execute(List.of("--json")));
        assertEquals(2_000_000_000L, out.get("localDdrBytesPerSecond").getAsLong());
        assertEquals(7, out.getAsJsonArray("invariants").size());
        assertTrue(out.getAsJsonArray("invariants").asList().stream()
                .allMatch(i -> i.getAsJsonObject().get("holds").getAsBoolean()));
        CommandResult tables = command.execute(List.of("--no-format"));
        assertFalse(tables.formatted());
        assertEquals(2, tables.tables().size());
    }

    @Test
    void allReduceOverTheLinksWithAChosenAlgorithmReportsTrafficAndAgrees() {
        AllReduceCommand command = new AllReduceCommand();
        command.collectives = new SimpleCollectives();
        command.engine = new org.popsolutions.spanker.scheduler.collective.ScheduledCollectives(
                new org.popsolutions.spanker.scheduler.link.LinkCalculator(
                        org.popsolutions.spanker.api.link.LinkParameters.REV_A),
                new org.popsolutions.spanker.device.mock.MockCardProvider());
        JsonObject out = json(command.execute(List.of("--op", "max", "--buffers", "1,9;5,2;3,4", "--algo", "ring",
                "--json")));
        assertEquals("ring", out.get("algorithm").getAsString());
        assertEquals("[5.0,9.0]", out.getAsJsonArray("cards").get(2).toString());
        assertEquals(3, out.getAsJsonArray("traffic").size());
        UsageException e = assertThrows(UsageException.class,
                () -> command.execute(List.of("--buffers", "1;2", "--algo", "tree")));
        assertTrue(e.getMessage().contains("tree"), e.getMessage());
    }

    @Test
    void helpListsEveryOption() {
        CommandResult help = new PickCommand().execute(List.of("--help"));
        assertTrue(help.lines().stream().anyMatch(l -> l.contains("--intercard")));
        assertNull(help.json());
    }
}
