package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.popsolutions.spanker.console.support.SameFacts.assertSameFacts;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.CardMemoryExceededException;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Rows.Layout;
import org.popsolutions.spanker.console.support.SameFacts;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.kernel.DotMode;
import org.popsolutions.spanker.model.llama.GgufModelReader;
import org.popsolutions.spanker.model.llama.ManualPlans;
import org.popsolutions.spanker.model.llama.ModelSynth;
import org.popsolutions.spanker.model.llama.Sampler;
import org.popsolutions.spanker.runtime.Generation;
import org.popsolutions.spanker.runtime.Llamas;
import org.popsolutions.spanker.runtime.PlanExecutor;
import org.popsolutions.spanker.runtime.TestSupport;
import org.popsolutions.spanker.runtime.service.PlanInferenceService;
import org.popsolutions.spanker.scheduler.collective.ScheduledCollectives;

/**
 * model-synth, logits and run as the console calls them. The planner here is a stand-in (every block
 * tensor-parallel over all cards, or refused when a card's memory is too small) since the scheduler's planner is
 * package-private; the collective engine and topology are the scheduler's and mock ones.
 */
class ModelCommandsTest {
    @TempDir
    static Path dir;

    static final ScheduledCollectives ENGINE = TestSupport.engine();

    static final ModelPlanner PLANNER = (shape, topology, options) -> {
        long bytes = shape.totalBytes() / topology.cardCount();
        if (bytes > options.cardMemoryBytes()) {
            throw new CardMemoryExceededException(0, bytes, options.cardMemoryBytes(), "use more cards");
        }
        return ManualPlans.tensorParallel(shape, topology.cardCount(), options.contextLength());
    };

    @AfterAll
    static void stop() {
        TestSupport.stop(ENGINE);
    }

    static <T extends org.popsolutions.spanker.console.support.AbstractConsoleCommand> T wire(T command) {
        if (command instanceof RunCommand r) {
            r.planner = PLANNER;
            r.inference = new PlanInferenceService(TestSupport.cards(), ENGINE);
            r.topology = () -> TestSupport.topology(TopologyKind.RING, 4);
        } else if (command instanceof LogitsCommand l) {
            l.planner = PLANNER;
            l.inference = new PlanInferenceService(TestSupport.cards(), ENGINE);
            l.topology = () -> TestSupport.topology(TopologyKind.RING, 4);
        }
        return command;
    }

    static JsonObject json(CommandResult r) {
        assertTrue(r.isJson());
        return JsonParser.parseString(r.json()).getAsJsonObject();
    }

    static List<Integer> ints(JsonArray a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(e -> out.add(e.getAsInt()));
        return out;
    }

    @Test
    void modelSynthWritesThePresetsShapes() throws Exception {
        Path out = dir.resolve("tiny.gguf");
        JsonObject o = json(new ModelSynthCommand().execute(List.of("--preset", "tiny", "--type", "q4_0", "--out",
                out.toString(), "--json")));
        assertEquals(ModelSynth.TINY.parameters(), o.get("parameters").getAsLong());
        ModelShape shape = new GgufModelReader().read(out);
        assertEquals(8, shape.layers());
        assertEquals(512, shape.embedding());
        assertEquals(4, shape.kvHeads());
        assertEquals(4096, shape.vocabulary());
        assertEquals("Q4_0", shape.tensor("blk.3.ffn_down.weight").orElseThrow().type());
        assertEquals(3, shape.tensor("blk.3.ffn_down.weight").orElseThrow().layer());
        assertEquals(1536, shape.tensor("blk.3.ffn_down.weight").orElseThrow().rowLength());
        // same seed, same bytes
        Path again = dir.resolve("tiny2.gguf");
        new ModelSynthCommand().execute(List.of("--preset", "tiny", "--type", "q4_0", "--out", again.toString()));
        assertEquals(-1, Files.mismatch(out, again));
        assertThrows(UsageException.class, () -> new ModelSynthCommand().execute(List.of("--preset", "huge", "--out",
                out.toString())));
    }

    @Test
    void logitsOnFourCardsMatchLlamaCpp() throws Exception {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        Path out = dir.resolve("logits.f32");
        JsonObject o = json(wire(new LogitsCommand()).execute(List.of("--model", model.toString(), "--tokens",
                "1,5,9,42", "--out", out.toString(), "--json")));
        assertEquals(4, o.get("positions").getAsInt());
        assertEquals(4, o.getAsJsonObject("plan").get("cards").getAsInt());
        float[] got = floats(Files.readAllBytes(out));
        float[] want = floats(Files.readAllBytes(GoldenModels.model("logits/tiny-llama-q8_0.llamacpp.incr.kvf32.f32")));
        assertEquals(want.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(want[i], got[i], 1e-5, "logit " + i);
        }
        assertThrows(UsageException.class, () -> wire(new LogitsCommand()).execute(List.of("--model",
                model.toString(), "--tokens", "1,512", "--out", out.toString())));
        // a missing model: the one answer of run, plan, gguf and logits (exit 1, the path, "no such file")
        InvalidModelException missing = assertThrows(InvalidModelException.class, () -> wire(new LogitsCommand())
                .execute(List.of("--model", dir.resolve("none.gguf").toString(), "--tokens", "1", "--out",
                        out.toString())));
        assertEquals("model file " + dir.resolve("none.gguf") + ": no such file", missing.getMessage());
    }

    static float[] floats(byte[] raw) {
        float[] f = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Test
    void runGeneratesTheOneCardTokensOnFourCards() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        JsonObject o = json(wire(new RunCommand()).execute(List.of("--model", model.toString(), "--tokens",
                "1,5,9,42", "--n", "6", "--threads", "1", "--json")));
        List<Integer> expected;
        try (PlanExecutor one = Llamas.singleCard(TestSupport.cards(), GgufReader.open(model), DotMode.GGML, 1)) {
            expected = Generation.generate(one, new int[] {1, 5, 9, 42}, 6, Sampler.greedy(), 2, null);
        }
        assertEquals(expected, ints(o.getAsJsonArray("tokens")));
        JsonObject timing = o.getAsJsonObject("timing");
        assertEquals(4, timing.getAsJsonArray("perCard").size());
        assertEquals(4.0, timing.get("allreducesPerToken").getAsDouble(), "2 allreduces x 2 blocks");
        assertTrue(timing.get("tokensPerSecond").getAsDouble() > 0);
        assertTrue(timing.get("loadSeconds").getAsDouble() > 0, "measured load time");
        assertTrue(timing.has("predictedLoadSeconds"), "the plan's load time beside the measured one");
        // the weights' transfer, what the prediction is compared with, is a part of the load; the host's work the rest
        double transfer = timing.get("loadTransferSeconds").getAsDouble();
        assertTrue(transfer > 0 && transfer < timing.get("loadSeconds").getAsDouble(), "transfer " + transfer);
        assertEquals(timing.get("loadSeconds").getAsDouble() - transfer, timing.get("loadHostSeconds").getAsDouble(),
                1e-9, "undilated: the load is the transfer and the host's work");
        // the breakdown adds up: the busiest card and the host's other work make the measured total
        double total = timing.get("measuredSecondsPerToken").getAsDouble();
        double busiest = timing.get("busiestCardSecondsPerToken").getAsDouble();
        double other = timing.get("otherSecondsPerToken").getAsDouble();
        assertTrue(other >= 0 && busiest > 0, timing.toString());
        assertEquals(total, other == 0 ? Math.min(total, busiest) : busiest + other, total * 1e-9, timing.toString());
        assertEquals(1, timing.get("repetitions").getAsInt());
        JsonObject repeated = json(wire(new RunCommand()).execute(List.of("--model", model.toString(), "--tokens",
                "1,5,9,42", "--n", "6", "--threads", "1", "--repetitions", "3", "--json")));
        assertEquals(expected, ints(repeated.getAsJsonArray("tokens")), "the same tokens every repetition");
        assertEquals(3, repeated.getAsJsonObject("timing").get("repetitions").getAsInt());
        assertTrue(repeated.getAsJsonObject("timing").get("tokensPerSecondSd").getAsDouble() >= 0);
        JsonObject plan = o.getAsJsonObject("plan");
        assertEquals(2, plan.getAsJsonObject("blocks").get("TensorParallel").getAsInt());
        assertEquals(4, plan.getAsJsonArray("perCard").size());
        // the plan as every command spells it (plan --json has the same keys at its top level)
        for (String key : List.of("model", "strategy", "cards", "cabling", "secondsPerToken", "computeSecondsPerToken",
                "communicationSecondsPerToken", "hostSecondsPerToken", "loadSeconds", "firstCard", "outputCards",
                "notes")) {
            assertTrue(plan.has(key), key + " missing from " + plan.keySet());
        }
        assertEquals("ring", plan.get("cabling").getAsString());
        // text prompt, sampling, two cards on a mesh
        CommandResult text = wire(new RunCommand()).execute(List.of("--model", model.toString(), "--prompt",
                "Hello world", "--n", "3", "--temperature", "0.9", "--top-k", "20", "--top-p", "0.9", "--seed", "7",
                "--cards", "2", "--kind", "mesh"));
        assertTrue(String.join("\n", text.lines()).contains("text: "), text.lines().toString());
        assertTrue(String.join("\n", text.lines()).contains("loaded in "), text.lines().toString());
        assertThrows(UsageException.class, () -> wire(new RunCommand()).execute(List.of("--model", model.toString(),
                "--prompt", "x", "--tokens", "1")));
        assertThrows(CardMemoryExceededException.class, () -> wire(new RunCommand()).execute(List.of("--model",
                model.toString(), "--card-memory", "1000", "--n", "1")));
    }

    @Test
    void runPrintsTheTextAsItIsGeneratedThenTheReport() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        java.io.ByteArrayOutputStream streamed = new java.io.ByteArrayOutputStream();
        int[] flushes = {0};
        RunCommand run = wire(new RunCommand());
        run.tokensOut = new java.io.PrintStream(streamed, false, java.nio.charset.StandardCharsets.UTF_8) {
            @Override
            public void flush() {
                flushes[0]++;
                super.flush();
            }
        };
        CommandResult result = run.execute(List.of("--model", model.toString(), "--prompt", "Hello world", "--n", "5",
                "--threads", "1"));
        String lines = String.join("\n", result.lines());
        String text = lines.substring(lines.indexOf("text: ") + "text: ".length()).split("\n")[0];
        String out = streamed.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(out.startsWith(" Hello world"), out);
        assertEquals(" Hello world" + text + "\n", out, "the prompt (as the tokenizer reads it back), then each"
                + " token's text as it came");
        // the prompt, one flush per generated token, the closing newline
        assertTrue(flushes[0] >= 2 + 1, "flushed " + flushes[0] + " times");
        // JSON: nothing streamed, one document
        streamed.reset();
        json(run.execute(List.of("--model", model.toString(), "--prompt", "Hello world", "--n", "2", "--json")));
        assertEquals(0, streamed.size());
    }

    @Test
    void runPlotsEachTokensMeasuredTime() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        List<org.popsolutions.spanker.api.plot.Chart> drawn = new ArrayList<>();
        Path[] written = new Path[1];
        RunCommand run = wire(new RunCommand());
        run.tokensOut = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        Path svg = dir.resolve("tokens.svg");
        assertThrows(org.popsolutions.spanker.api.InvalidConfigurationException.class, () -> run.execute(List.of(
                "--model", model.toString(), "--n", "2", "--plot", svg.toString())), "no chart writer installed");
        run.charts = new org.popsolutions.spanker.api.plot.ChartWriter() {
            @Override
            public void writeSvg(List<org.popsolutions.spanker.api.plot.Chart> charts, Path file) {
                drawn.addAll(charts);
                written[0] = file;
            }

            @Override
            public String svg(List<org.popsolutions.spanker.api.plot.Chart> charts) {
                throw new UnsupportedOperationException("run writes files");
            }
        };
        JsonObject o = json(run.execute(List.of("--model", model.toString(), "--tokens", "1,5,9", "--n", "5",
                "--plot", svg.toString(), "--json")));
        assertEquals(svg, written[0]);
        assertEquals(svg.toString(), o.get("plot").getAsString());
        var series = drawn.get(0).series();
        assertEquals("measured per token", series.get(0).name());
        assertEquals(o.getAsJsonArray("tokens").size(), series.get(0).x().length, "one point per generated token");
        for (double seconds : series.get(0).y()) {
            assertTrue(seconds > 0);
        }
        // the manual plan of this test predicts nothing: no predicted line on a logarithmic axis
        assertTrue(series.stream().noneMatch(org.popsolutions.spanker.api.plot.Series::predicted));
    }

    @Test
    void runWithoutAModelSynthesizesTheTinyPresetOnce() throws Exception {
        Path cache = dir.resolve("cache");
        System.setProperty("spanker.cache", cache.toString());
        try {
            JsonObject o = json(wire(new RunCommand()).execute(List.of("--n", "4", "--json")));
            Path cached = Path.of(o.get("model").getAsString());
            assertTrue(cached.startsWith(cache), cached.toString());
            long modified = Files.getLastModifiedTime(cached).toMillis();
            assertEquals(4, o.getAsJsonArray("tokens").size());
            JsonObject again = json(wire(new RunCommand()).execute(List.of("--n", "4", "--json")));
            assertEquals(o.getAsJsonArray("tokens"), again.getAsJsonArray("tokens"), "greedy and reproducible");
            assertEquals(modified, Files.getLastModifiedTime(cached).toMillis(), "synthesized once");
        } finally {
            System.clearProperty("spanker.cache");
        }
    }

    /** One run's report: its tables and, written as --json writes it, its JSON document. */
    private static JsonObject runOnce(org.popsolutions.spanker.console.support.AbstractConsoleCommand command,
            List<String> line, List<org.popsolutions.spanker.api.console.Table> tables) {
        org.popsolutions.spanker.console.support.Report report;
        if (command instanceof RunCommand r) {
            report = r.run(Arguments.parse(r.spec(), line));
        } else if (command instanceof GgufCommand g) {
            report = g.run(Arguments.parse(g.spec(), line));
        } else if (command instanceof BenchMatvecCommand b) {
            report = b.run(Arguments.parse(b.spec(), line));
        } else {
            QuantizeModelCommand q = (QuantizeModelCommand) command;
            report = q.run(Arguments.parse(q.spec(), line));
        }
        tables.addAll(report.tables());
        return SameFacts.json(report);
    }

    @Test
    void runTablesAreItsJson() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        RunCommand run = wire(new RunCommand());
        run.tokensOut = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        List<org.popsolutions.spanker.api.console.Table> tables = new ArrayList<>();
        JsonObject json = runOnce(run, List.of("--model", model.toString(), "--tokens", "1,5", "--n", "3",
                "--threads", "1"), tables);
        JsonObject plan = json.getAsJsonObject("plan");
        assertSameFacts(tables.get(0), plan, "plan", Layout.FIELDS, Column.of("firstCard", "first card"),
                Column.of("outputCards", "output cards"),
                Column.of("secondsPerToken", "predicted s/token", Unit.SCIENTIFIC),
                Column.of("computeSecondsPerToken", "compute", Unit.SCIENTIFIC),
                Column.of("communicationSecondsPerToken", "links", Unit.SCIENTIFIC),
                Column.of("hostSecondsPerToken", "host", Unit.SCIENTIFIC),
                Column.of("loadSeconds", "load s", Unit.SCIENTIFIC));
        assertSameFacts(tables.get(1), plan, "perCard", Column.of("card", "card"),
                Column.of("plannedWeightBytes", "planned weights", Unit.BYTES),
                Column.of("heldWeightBytes", "held weights", Unit.BYTES), Column.of("kvCacheBytes", "KV cache", Unit.BYTES),
                Column.of("capacityBytes", "capacity", Unit.BYTES));
        JsonObject timing = json.getAsJsonObject("timing");
        assertSameFacts(tables.get(2), timing, "perCard", Column.of("card", "card"),
                Column.of("computeSecondsPerToken", "compute", Unit.SECONDS),
                Column.of("shareOfWall", "share of wall", Unit.PERCENT));
        assertSameFacts(tables.get(3), timing, "breakdown", Column.of("part", ""),
                Column.of("predictedSeconds", "predicted", Unit.SCIENTIFIC),
                Column.of("measuredSeconds", "measured", Unit.SCIENTIFIC), Column.of("note", "note"));
        assertEquals(timing.get("measuredSecondsPerToken").getAsDouble(), timing.getAsJsonArray("breakdown").get(0)
                .getAsJsonObject().get("measuredSeconds").getAsDouble(), "the total is the measured time per token");
    }

    @Test
    void ggufAndQuantizeModelTablesAreTheirJson() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        List<org.popsolutions.spanker.api.console.Table> tables = new ArrayList<>();
        JsonObject json = runOnce(new GgufCommand(), List.of(model.toString()), tables);
        assertSameFacts(tables.get(0), json, "header", Layout.FIELDS, Column.of("version", "version"),
                Column.of("alignment", "alignment"), Column.of("tensorCount", "tensors"),
                Column.of("metadataCount", "metadata"), Column.of("dataOffset", "data offset"),
                Column.of("fileBytes", "file bytes"));
        assertSameFacts(tables.get(2), json, "tensors", Column.of("name", "name"), Column.of("type", "type"),
                Column.of("shape", "shape"), Column.of("bytes", "bytes"), Column.of("offset", "offset"));

        tables.clear();
        JsonObject quantized = runOnce(new QuantizeModelCommand(), List.of("--in", model.toString(), "--out",
                dir.resolve("q4.gguf").toString(), "--type", "q4_0"), tables);
        assertSameFacts(tables.get(0), quantized, "perTensor", Column.of("tensor", "tensor"), Column.of("from", "from"),
                Column.of("to", "to"), Column.of("bytes", "bytes"));
    }

    @Test
    void benchMatvecTableIsItsJson() {
        List<org.popsolutions.spanker.api.console.Table> tables = new ArrayList<>();
        JsonObject json = runOnce(new BenchMatvecCommand(), List.of("--type", "q8_0", "--rows", "64", "--cols", "256",
                "--passes", "2", "--repetitions", "2"), tables);
        assertSameFacts(tables.get(0), json, "result", Layout.FIELDS, Column.of("threads", "threads"),
                Column.of("kernels", "kernels"), Column.of("mode", "mode"),
                Column.of("seconds", "s/matvec", Unit.SCIENTIFIC), Column.of("secondsSd", "± sd", Unit.SCIENTIFIC),
                Column.of("gflops", "GFLOP/s", Unit.FIXED_2), Column.of("gflopsSd", "± sd", Unit.FIXED_2),
                Column.of("gbps", "GB/s weights", Unit.FIXED_2), Column.of("gbpsSd", "± sd", Unit.FIXED_2),
                Column.of("copies", "matrices"), Column.of("weightBytes", "bytes each", Unit.BYTES));
    }
}
