package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.popsolutions.spanker.console.support.SameFacts.assertSameFacts;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.Table;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Rows.Layout;
import org.popsolutions.spanker.console.support.SameFacts;
import org.popsolutions.spanker.console.support.Unit;

/**
 * A command's table and its JSON carry the same facts in the same spellings: each command is run twice, as people
 * see it and with {@code --json}, and every cell of its tables must be the JSON value printed in its column's unit.
 */
class OneFactOneFormTest {
    private static JsonObject json(CommandResult result) {
        return JsonParser.parseString(result.json()).getAsJsonObject();
    }

    @Test
    void topologyTablesAreItsJson() {
        Topology ring = SyntheticTopology.of(TopologyKind.RING, 4);
        TopologyCommand command = new TopologyCommand();
        command.topology = new TopologyService() {
            @Override
            public Topology current() {
                return ring;
            }
        };
        CommandResult people = command.execute(List.of());
        JsonObject json = json(command.execute(List.of("--json")));
        assertSameFacts(people.tables().get(0), json, "cards", Column.of("index", "Card"), Column.of("name", "Name"),
                Column.of("provider", "Provider"), Column.of("memoryBytes", "Memory", Unit.BYTES));
        assertSameFacts(people.tables().get(1), json, "links", Column.of("from", "From"), Column.of("to", "To"),
                Column.of("state", "State"), Column.of("bandwidthBytesPerSecond", "Bandwidth", Unit.BYTES_PER_SECOND),
                Column.of("latencySeconds", "Latency", Unit.SECONDS));
    }

    @Test
    void pickCandidatesTableIsItsJson() {
        PickCommand command = new PickCommand();
        command.strategy = new CommandsTest.RecordingStrategy();
        command.bandwidth = new CommandsTest.FakeBandwidth();
        List<String> line = List.of("--m", "1", "--n", "5632", "--k", "2048", "--cards", "4");
        CommandResult people = command.execute(line);
        JsonObject json = json(command.execute(new java.util.ArrayList<>(List.of("--json")) {
            {
                addAll(0, line);
            }
        }));
        assertSameFacts(people.tables().get(0), json, "candidates", Column.of("strategy", "Strategy"),
                Column.of("seconds", "Predicted time (s)", Unit.SCIENTIFIC), Column.of("chosen", "Chosen", Unit.MARK));
        assertEquals(json.get("strategy").getAsString(), people.tables().get(0).rows().get(1).get(0),
                "the chosen one is the strategy");
    }

    @Test
    void linkModelCollectivesTableIsItsJson() {
        LinkModelCommand command = new LinkModelCommand();
        command.linkModel = new org.popsolutions.spanker.scheduler.link.LinkCalculator(
                org.popsolutions.spanker.api.link.LinkParameters.REV_A);
        CommandResult people = command.execute(List.of("--cards", "4", "--mib", "1"));
        JsonObject json = json(command.execute(List.of("--cards", "4", "--mib", "1", "--json")));
        Table collectives = people.tables().stream().filter(t -> t.title().startsWith("4. Collectives")).findFirst()
                .orElseThrow();
        assertSameFacts(collectives, json, "collectives", Column.of("collective", "Collective"),
                Column.of("cabling", "Cabling"), Column.of("algorithm", "Algorithm"),
                Column.of("seconds", "Time", Unit.SECONDS), Column.of("latencySeconds", "α part", Unit.SECONDS),
                Column.of("transferSeconds", "β part", Unit.SECONDS), Column.of("reduceSeconds", "γ part", Unit.SECONDS),
                Column.of("steps", "Steps"), Column.of("maxHops", "Max hops"), Column.of("best", "Best", Unit.MARK));
    }

    @Test
    void bandwidthTablesAreItsJson() {
        BandwidthCommand command = new BandwidthCommand();
        command.bandwidth = new CommandsTest.FakeBandwidth();
        CommandResult people = command.execute(List.of());
        JsonObject json = json(command.execute(List.of("--json")));
        assertSameFacts(people.tables().get(0), json, "tiers", Column.of("tier", "Tier"),
                Column.of("bytesPerSecond", "Rate", Unit.BYTES_PER_SECOND), Column.of("derivation", "Derivation"),
                Column.of("source", "Source"));
        assertEquals(json.get("intercardBytesPerSecond").getAsLong(),
                json.getAsJsonArray("tiers").get(1).getAsJsonObject().get("bytesPerSecond").getAsLong());
        assertSameFacts(people.tables().get(1), json, "invariants", Column.of("name", "Invariant"),
                Column.of("rule", "Rule"), Column.of("holds", "Holds", Unit.YES_NO));
    }

    @Test
    void collectiveTablesAreTheirJson() {
        AllReduceCommand reduce = new AllReduceCommand();
        reduce.collectives = new CommandsTest.SimpleCollectives();
        List<String> line = List.of("--op", "avg", "--buffers", "1,0.1;2,NaN;3,4.5;4,1e30");
        assertSameFacts(reduce.execute(line).tables().get(0), json(reduce.execute(plus(line, "--json"))), "cards",
                Layout.VALUES, Column.of("card", "Card"), Column.of("buffer", "Buffer"));

        reduce.engine = new org.popsolutions.spanker.scheduler.collective.ScheduledCollectives(
                new org.popsolutions.spanker.scheduler.link.LinkCalculator(
                        org.popsolutions.spanker.api.link.LinkParameters.REV_A),
                new org.popsolutions.spanker.device.mock.MockCardProvider());
        List<String> overLinks = List.of("--op", "max", "--buffers", "1,9;5,2;3,4", "--algo", "ring");
        CommandResult people = reduce.execute(overLinks);
        JsonObject json = json(reduce.execute(plus(overLinks, "--json")));
        assertSameFacts(people.tables().get(0), json, "traffic", Column.of("from", "From"), Column.of("to", "To"),
                Column.of("bytes", "Bytes", Unit.BYTES), Column.of("messages", "Messages"));
        assertSameFacts(people.tables().get(1), json, "cards", Layout.VALUES, Column.of("card", "Card"),
                Column.of("buffer", "Buffer"));

        AllGatherCommand gather = new AllGatherCommand();
        gather.collectives = new CommandsTest.SimpleCollectives();
        List<String> gathered = List.of("--buffers", "1,2.5;3,-4");
        assertSameFacts(gather.execute(gathered).tables().get(0), json(gather.execute(plus(gathered, "--json"))),
                "result", Layout.FIELDS, Column.of("result", "Result"));
    }

    @Test
    void benchCollectiveRowsPrintedAreItsJsonRows() {
        BenchCollectiveCommand command = new BenchCollectiveCommand();
        command.engine = new BenchCollectiveCommandTest.InstantEngine();
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        command.rowsOut = new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8);
        List<String> line = List.of("--op", "allreduce", "--min", "1K", "--max", "4K", "--factor", "2", "--cards",
                "4", "--iters", "2", "--warmup", "0");
        // one run: the rows it printed as it measured them, and its JSON document
        JsonObject json = SameFacts.json(command.run(org.popsolutions.spanker.console.support.Arguments
                .parse(command.spec(), line)));
        Column[] columns = {Column.of("size", "size (B)"), Column.of("count", "count"), Column.of("type", "type"),
                Column.of("redop", "redop"), Column.of("algorithm", "algo"),
                Column.of("timeMicros", "time (us)", Unit.FIXED_1), Column.of("minTimeMicros", "min (us)", Unit.FIXED_1),
                Column.of("algbwGBps", "algbw (GB/s)", Unit.FIXED_3), Column.of("busbwGBps", "busbw (GB/s)", Unit.FIXED_3),
                Column.of("wrong", "#wrong"), Column.of("predictedMicros", "predicted (us)", Unit.FIXED_1),
                Column.of("measuredOverPredicted", "meas/pred", Unit.FIXED_2),
                Column.of("deviceTimeMicros", "device (us)", Unit.FIXED_1),
                Column.of("deviceOverPredicted", "dev/pred", Unit.FIXED_2)};
        String[] lines = printed.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n");
        JsonArray rows = json.getAsJsonArray("rows");
        assertEquals(2 + rows.size(), lines.length, String.join("\n", lines));
        assertEquals(List.of(columns).stream().map(Column::header).toList(),
                List.of(lines[1].trim().split(" {2,}| (?=[a-z#])")), lines[1]);
        for (int r = 0; r < rows.size(); r++) {
            assertEquals(SameFacts.cells(rows.get(r).getAsJsonObject(), columns),
                    List.of(lines[2 + r].trim().split(" +")), "row " + r);
        }
    }

    @Test
    void planTablesAreItsJson() {
        PlanCommand command = new PlanCommand();
        command.reader = new org.popsolutions.spanker.model.llama.GgufModelReader();
        command.planner = (shape, topology, options) -> org.popsolutions.spanker.model.llama.ManualPlans
                .tensorParallel(shape, topology.cardCount(), options.contextLength());
        List<String> line = List.of("--model", org.popsolutions.spanker.ggml.gguf.GoldenModels
                .model("tiny-llama-q8_0.gguf").toString(), "--cards", "2", "--tensors");
        CommandResult people = command.execute(line);
        JsonObject json = json(command.execute(plus(line, "--json")));
        assertSameFacts(people.tables().get(0), json, "layers", Column.of("layer", "Block"),
                Column.of("strategy", "Strategy"), Column.of("cards", "Cards"), Column.of("kvHeads", "KV heads"),
                Column.of("feedForwardRows", "FF rows"), Column.of("collective", "Collective"),
                Column.of("computeSeconds", "Compute", Unit.SECONDS),
                Column.of("communicationSeconds", "Communication", Unit.SECONDS));
        assertSameFacts(people.tables().get(1), json, "cardLoads", Column.of("card", "Card"),
                Column.of("weightBytes", "Weights", Unit.BYTES), Column.of("kvCacheBytes", "KV cache", Unit.BYTES),
                Column.of("totalBytes", "Total", Unit.BYTES), Column.of("capacityBytes", "Capacity", Unit.BYTES),
                Column.of("use", "Use", Unit.PERCENT));
        assertSameFacts(people.tables().get(2), json, "tensors", Column.of("tensor", "Tensor"),
                Column.of("layer", "Block"), Column.of("strategy", "Strategy"), Column.of("split", "Split"),
                Column.of("cards", "Cards"), Column.of("bytesPerCard", "Bytes per card", Unit.BYTES));
        assertEquals(2, command.execute(line.subList(0, 4)).tables().size(), "the tensors' table only when asked");
    }

    private static List<String> plus(List<String> line, String... more) {
        List<String> all = new java.util.ArrayList<>(line);
        all.addAll(List.of(more));
        return all;
    }
}
