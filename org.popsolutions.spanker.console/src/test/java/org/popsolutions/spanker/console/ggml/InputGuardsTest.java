package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;

/**
 * Inputs that used to exhaust memory, overflow, hang or give a meaningless answer, each refused with the numbers
 * before anything is allocated (or, for non-finite logits, reported as an error instead of token 0).
 */
class InputGuardsTest {
    @TempDir
    Path dir;

    static final Path MODEL = GoldenModels.model("tiny-llama-q8_0.gguf");

    private static UsageException usage(org.popsolutions.spanker.console.support.AbstractConsoleCommand c,
            String... args) {
        return assertThrows(UsageException.class, () -> c.execute(List.of(args)), Arrays.toString(args));
    }

    private static void contains(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
        }
    }

    @Test
    void quantizeRefusesFilesTooLargeDevicesAndFifosBeforeReading() throws Exception {
        Path huge = dir.resolve("huge.f32");
        try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength(3L << 30); // sparse: 3 GiB on paper, nothing on disk
        }
        String out = dir.resolve("o.bin").toString();
        contains(usage(new QuantizeCommand(), "--type", "q8_0", "--in", huge.toString(), "--out", out),
                "3221225472 bytes", "at most 2147483639");
        if (Files.exists(Path.of("/dev/zero"))) {
            contains(usage(new QuantizeCommand(), "--type", "q8_0", "--in", "/dev/zero", "--out", out),
                    "/dev/zero: is not a regular file");
        }
        Path fifo = dir.resolve("fifo.f32");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "needs mkfifo");
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> contains(usage(new QuantizeCommand(), "--type",
                "q8_0", "--in", fifo.toString(), "--out", out), "is not a regular file"));
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> contains(usage(new DotCommand(), "--type", "q8_0",
                "--weights", fifo.toString(), "--activations", fifo.toString()), "is not a regular file"));
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void heapGuardNamesBothNumbers() {
        long max = Runtime.getRuntime().maxMemory();
        UsageException e = assertThrows(UsageException.class, () -> CommandFiles.requireHeap(max + 1, "a test"));
        contains(e, "a test needs about " + (max + 1) + " bytes", "are free");
        CommandFiles.requireHeap(1 << 20, "a small thing");
    }

    @Test
    void runRefusesContextsAndCardMemoriesThatCannotFit() {
        String model = MODEL.toString();
        // 2^31 - 1 tokens: key caches above a Java array (was an integer overflow deep in the model)
        contains(usage(ModelCommandsTest.wire(new RunCommand()), "--model", model, "--context", "2147483647", "--n",
                "1"), "--context 2147483647", "the largest context for this model is");
        // 4 million tokens on 16 TiB cards: each key cache fits one buffer and the plan fits, this JVM's direct
        // memory does not hold them all (was an OutOfMemoryError)
        org.popsolutions.spanker.model.llama.LlamaConfig config = org.popsolutions.spanker.model.llama.LlamaConfig
                .of(GgufReader.open(MODEL));
        assumeTrue(CommandFiles.maxDirectMemory() < 2L * Float.BYTES * 4_000_000 * config.kvDimension()
                * config.layers(), "the direct memory is smaller than the KV caches");
        contains(usage(ModelCommandsTest.wire(new RunCommand()), "--model", model, "--context", "4000000",
                "--card-memory", "16T", "--n", "1"), "KV caches of --context 4000000", "bytes", "of direct memory",
                "are free");
        contains(usage(ModelCommandsTest.wire(new LogitsCommand()), "--model", model, "--tokens", "1", "--out",
                dir.resolve("l.f32").toString(), "--context", "4000000"), "KV caches");
        // 2^64 - 1 bytes would be a negative signed count in the plan (was shown as -1)
        contains(usage(ModelCommandsTest.wire(new RunCommand()), "--model", model, "--card-memory",
                "18446744073709551615", "--n", "1"), "--card-memory must be within 1..9223372036854775807",
                "18446744073709551615");
    }

    @Test
    void runRefusesTokenCountsBeyondTheContextWithoutOverflow() {
        contains(usage(ModelCommandsTest.wire(new RunCommand()), "--model", MODEL.toString(), "--tokens", "1,2",
                "--n", "2147483647"), "2 prompt tokens and 2147483647 new ones exceed the context of 128");
    }

    @Test
    void runWithoutGeneratedTokensReportsNoGenerationSpeed() {
        for (String n : List.of("0", "1")) {
            CommandResult r = ModelCommandsTest.wire(new RunCommand()).execute(List.of("--model", MODEL.toString(),
                    "--tokens", "1,5", "--n", n, "--json"));
            JsonObject timing = ModelCommandsTest.json(r).getAsJsonObject("timing");
            assertFalse(timing.has("tokensPerSecond"), "--n " + n + ": " + timing);
            assertEquals("prompt", timing.get("measuredOver").getAsString());
            CommandResult text = ModelCommandsTest.wire(new RunCommand()).execute(List.of("--model",
                    MODEL.toString(), "--tokens", "1,5", "--n", n));
            String all = String.join("\n", text.lines());
            assertTrue(all.contains("generation not timed") && !all.contains("generation 0")
                    && !all.matches("(?s).*generation [0-9.]+ tokens/s.*"), all);
        }
        JsonObject timing = ModelCommandsTest.json(ModelCommandsTest.wire(new RunCommand()).execute(List.of(
                "--model", MODEL.toString(), "--tokens", "1,5", "--n", "3", "--json"))).getAsJsonObject("timing");
        assertTrue(timing.get("tokensPerSecond").getAsDouble() > 0);
        assertEquals("generation", timing.get("measuredOver").getAsString());
    }

    @Test
    void benchMatvecRefusesNonPositivePasses() {
        contains(usage(new BenchMatvecCommand(), "--passes", "-1", "--rows", "32", "--cols", "32"),
                "--passes must be >= 1, got -1");
        contains(usage(new BenchMatvecCommand(), "--passes", "0", "--rows", "32", "--cols", "32"), "got 0");
    }

    @Test
    void aMissingModelIsOneAnswerEverywhere() {
        Path missing = dir.resolve("none.gguf");
        String expected = "model file " + missing + ": no such file";
        for (var c : List.of(ModelCommandsTest.wire(new RunCommand()), ModelCommandsTest.wire(new LogitsCommand()),
                new GgufCommand())) {
            List<String> args = c instanceof GgufCommand ? List.of(missing.toString())
                    : c instanceof LogitsCommand ? List.of("--model", missing.toString(), "--tokens", "1", "--out",
                            dir.resolve("l.f32").toString()) : List.of("--model", missing.toString());
            InvalidModelException e = assertThrows(InvalidModelException.class, () -> c.execute(args));
            assertEquals(expected, e.getMessage(), c.spec().name());
        }
    }

    /** The golden model with a NaN block scale in token 5's embedding row, or a NaN rope base. */
    private Path poisoned(boolean nanWeights) throws Exception {
        GgufFile golden = GgufReader.open(MODEL);
        GgufWriter w = new GgufWriter().putAll(golden.metadata());
        if (!nanWeights) {
            w.put("llama.rope.freq_base", GgufValue.f32(Float.NaN));
        }
        for (GgufTensorInfo t : golden.tensors()) {
            ByteBuffer data = golden.data(t);
            if (nanWeights && t.name().equals("token_embd.weight")) {
                ByteBuffer copy = ByteBuffer.allocate(data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
                copy.put(data.duplicate()).flip();
                copy.putShort(5 * 272, (short) 0x7e00); // q8_0 rows of 256 values: 8 blocks of 34 bytes
                data = copy;
            }
            w.tensor(t.name(), t.type(), t.shape(), data);
        }
        Path p = dir.resolve(nanWeights ? "nan-weights.gguf" : "nan-rope.gguf");
        w.write(p);
        return p;
    }

    @Test
    void nonFiniteWeightsAreAnErrorInRunAndLogits() throws Exception {
        Path nan = poisoned(true);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelCommandsTest.wire(
                new RunCommand()).execute(List.of("--model", nan.toString(), "--tokens", "1,5,9,42", "--n", "4")));
        contains(e, "tensor token_embd.weight holds a non-finite value (NaN at row 5, column 0)", "damaged");
        Path out = dir.resolve("l.f32");
        e = assertThrows(InvalidModelException.class, () -> ModelCommandsTest.wire(new LogitsCommand()).execute(
                List.of("--model", nan.toString(), "--tokens", "1,5", "--out", out.toString())));
        contains(e, "token_embd.weight holds a non-finite value");
        assertFalse(Files.exists(out), "no logits file from a failed run");
        Path rope = poisoned(false);
        e = assertThrows(InvalidModelException.class, () -> ModelCommandsTest.wire(new RunCommand()).execute(
                List.of("--model", rope.toString(), "--tokens", "1,5", "--n", "4")));
        contains(e, "llama.rope.freq_base is NaN");
        // gguf shows the file (it is valid GGUF) and says why it cannot run
        JsonObject o = ModelCommandsTest.json(new GgufCommand().execute(List.of(rope.toString(), "--json")));
        assertFalse(o.get("runnable").getAsBoolean());
        assertTrue(o.get("problem").getAsString().contains("llama.rope.freq_base"), o.toString());
        assertTrue(ModelCommandsTest.json(new GgufCommand().execute(List.of(MODEL.toString(), "--json")))
                .get("runnable").getAsBoolean());
    }
}
