package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Every file-writing command (quantize, dequantize, quantize-model, logits, model-synth) loses nothing: an output
 * that is one of its inputs, by any name or link, is refused and the input stays intact; a write that fails midway
 * leaves neither a partial file nor a changed target; a path that cannot be written is a one-line named error.
 */
class OutputFilesTest {
    @TempDir
    Path dir;

    static final Path MODEL = GoldenModels.model("tiny-llama-f32.gguf");

    private Path floats(String name, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            b.putFloat((float) Math.sin(i * 0.37));
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path copyOfModel() throws IOException {
        Path p = dir.resolve("m.gguf");
        Files.copy(MODEL, p);
        return p;
    }

    /** The output as the same name, a symbolic link and a hard link to the input: refused, the input intact. */
    private void refusesEveryAliasOf(Path input, String inputOption, List<String> before, List<String> after,
            AbstractConsoleCommand command) throws IOException {
        byte[] original = Files.readAllBytes(input);
        Path symlink = Files.createSymbolicLink(dir.resolve("sym-" + input.getFileName()), input);
        Path hardlink = Files.createLink(dir.resolve("hard-" + input.getFileName()), input);
        Path relative = dir.relativize(input).getFileName();
        for (Path alias : List.of(input, symlink, hardlink, dir.resolve(".").resolve(relative))) {
            List<String> args = new ArrayList<>(before);
            args.add(input.toString());
            args.addAll(after);
            args.add(alias.toString());
            UsageException e = assertThrows(UsageException.class, () -> command.execute(args), alias.toString());
            assertTrue(e.getMessage().contains("same file") && e.getMessage().contains(inputOption + " " + input)
                    && e.getMessage().contains("--out " + alias), e.getMessage());
            assertArrayEquals(original, Files.readAllBytes(input), "input intact after --out " + alias);
        }
        Files.delete(symlink);
        Files.delete(hardlink);
    }

    @Test
    void anOutputThatIsAnInputIsRefusedByFileIdentityNotName() throws Exception {
        Path f32 = floats("x.f32", 256);
        refusesEveryAliasOf(f32, "--in", List.of("--type", "q8_0", "--in"), List.of("--out"), new QuantizeCommand());
        Path q8 = dir.resolve("x.q8_0");
        new QuantizeCommand().execute(List.of("--type", "q8_0", "--in", f32.toString(), "--out", q8.toString()));
        refusesEveryAliasOf(q8, "--in", List.of("--type", "q8_0", "--in"), List.of("--out"),
                new DequantizeCommand());
        Path model = copyOfModel();
        refusesEveryAliasOf(model, "--in", List.of("--type", "q8_0", "--in"), List.of("--out"),
                new QuantizeModelCommand());
        refusesEveryAliasOf(model, "--model", List.of("--tokens", "1,2", "--model"), List.of("--out"),
                ModelCommandsTest.wire(new LogitsCommand()));
        // a different file is fine, and the input is still readable afterwards
        Path out = dir.resolve("q.gguf");
        new QuantizeModelCommand().execute(List.of("--type", "q8_0", "--in", model.toString(), "--out",
                out.toString()));
        assertEquals(-1, Files.mismatch(model, MODEL));
    }

    @Test
    void aFailedWriteLeavesNoPartialFileAndTheTargetUnchanged() throws Exception {
        Path target = dir.resolve("out.bin");
        OutputFile fresh = OutputFile.of("--out", target.toString());
        DeviceException e = assertThrows(DeviceException.class, () -> fresh.write(file -> {
            Files.write(file, new byte[4096]);
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write --out " + target + ": no space left on device; nothing was written",
                e.getMessage());
        assertEquals(List.of(), listing(), "no partial file");
        Files.writeString(target, "the old content");
        OutputFile existing = OutputFile.of("--out", target.toString());
        assertThrows(DeviceException.class, () -> existing.write(file -> {
            Files.write(file, new byte[4096]);
            throw new java.io.UncheckedIOException(new IOException("File too large"));
        }));
        assertEquals("the old content", Files.readString(target));
        assertEquals(List.of("out.bin"), listing());
        var permissions = java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----");
        Files.setPosixFilePermissions(target, permissions);
        existing.write("new".getBytes());
        assertEquals("new", Files.readString(target));
        assertEquals(permissions, Files.getPosixFilePermissions(target), "the replaced file's permissions stay");
        assertEquals(List.of("out.bin"), listing());
    }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * A real write failing midway: each command runs in a process whose file size limit (ulimit -f, 4 KiB) is below
     * its output, as on a full disk. Exit 1 with the reason; the target does not exist (or keeps its old content)
     * and nothing partial is left beside it.
     */
    @Test
    void aWriteFailingMidwayInEveryWritingCommandLeavesNothing() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "needs /bin/sh for ulimit");
        Path inputs = Files.createDirectory(dir.resolve("in"));
        Path out = Files.createDirectory(dir.resolve("out"));
        Path f32 = inputs.resolve("x.f32");
        Files.move(floats("x.f32", 16384), f32);
        Path q8 = inputs.resolve("x.q8_0");
        Files.write(q8, QuantFormats.of(GgmlType.Q8_0).quantize(new float[16384]));
        Files.writeString(out.resolve("kept.f16"), "the old content");
        List<List<String>> runs = List.of(
                List.of("quantize", "--type", "f16", "--in", f32.toString(), "--out", out.resolve("kept.f16").toString()),
                List.of("dequantize", "--type", "q8_0", "--in", q8.toString(), "--out", out.resolve("y.f32").toString()),
                List.of("quantize-model", "--type", "q8_0", "--in", MODEL.toString(), "--out",
                        out.resolve("q.gguf").toString()),
                List.of("logits", "--model", MODEL.toString(), "--tokens", "1,5,9,42,7,3", "--out",
                        out.resolve("l.f32").toString()),
                List.of("model-synth", "--preset", "tiny", "--type", "q8_0", "--out", out.resolve("s.gguf").toString()));
        for (List<String> run : runs) {
            Result r = runLimited(run, 8);
            assertEquals(1, r.status, run + ": " + r.output);
            assertTrue(r.output.startsWith("error: RUNTIME: cannot write --out ") && r.output.contains("file too large")
                    && r.output.contains("nothing was written"), run + ": " + r.output);
            assertEquals(List.of("kept.f16"), names(out), run + " left files behind");
            assertEquals("the old content", Files.readString(out.resolve("kept.f16")));
        }
        // run's model cache: the synthesis fails as on a full disk, the cache holds no file (no partial model that
        // a later run would take for the cached one)
        Path cache = dir.resolve("cache");
        Result cached = runLimited(List.of("run", "--n", "1"), 8, "-Dspanker.cache=" + cache);
        assertEquals(1, cached.status, cached.output);
        assertTrue(cached.output.startsWith("error: RUNTIME: cannot write the model cache " + cache)
                && cached.output.contains("file too large") && cached.output.contains("SPANKER_CACHE"), cached.output);
        assertEquals(List.of(), names(cache));
        // the same commands without the limit write their files
        Result ok = runLimited(runs.get(1), -1);
        assertEquals(0, ok.status, ok.output);
        assertEquals(16384 * 4, Files.size(out.resolve("y.f32")));
    }

    record Result(int status, String output) {
    }

    static Result runLimited(List<String> args, int blocks, String... jvmOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", (blocks < 0 ? "" : "ulimit -f " + blocks
                + "; ") + "exec \"$0\" \"$@\"", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UsePerfData", "-Xshare:auto", "--add-modules", "jdk.incubator.vector"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CommandProcess.class.getName()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new AssertionError(args + " did not finish in 120 s");
            }
            String output = new String(p.getInputStream().readAllBytes()).lines()
                    .filter(l -> !l.startsWith("WARNING: Using incubator")).reduce("", (a, b) -> a + b);
            return new Result(p.exitValue(), output);
        } finally {
            p.destroyForcibly();
        }
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void pathsThatCannotBeWrittenAreNamedErrorsBeforeAnyWork() throws Exception {
        Path model = copyOfModel();
        List<String> quantizeModel = List.of("--type", "q8_0", "--in", model.toString(), "--out");
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        assertUsage(quantizeModel, dir.resolve("missing/q.gguf"), "the folder " + dir.resolve("missing")
                + " does not exist");
        assertUsage(quantizeModel, dir, "is a folder");
        assertUsage(quantizeModel, file.resolve("q.gguf"), file + " is not a folder");
        if (Files.exists(Path.of("/dev/full"))) {
            assertUsage(quantizeModel, Path.of("/dev/full"), "is not a regular file");
            assertUsage(List.of("--type", "f16", "--in", floats("a.f32", 64).toString(), "--out"),
                    Path.of("/dev/full"), "is not a regular file", new QuantizeCommand());
        }
        if (Files.exists(Path.of("/proc/version"))) {
            // procfs holds no new files: refused by the folder check, or failing with the operating system's reason
            List<String> args = new ArrayList<>(quantizeModel);
            args.add("/proc/version");
            RuntimeException e = assertThrows(RuntimeException.class, () -> new QuantizeModelCommand().execute(args));
            assertTrue(e instanceof UsageException || e instanceof SpankerException, e.toString());
            assertTrue(e.getMessage().contains("--out /proc/version") && !e.getMessage().endsWith("/proc/version"),
                    e.getMessage());
        }
        assertEquals(-1, Files.mismatch(model, MODEL));
        for (AbstractConsoleCommand c : List.of(new ModelSynthCommand(), ModelCommandsTest.wire(new LogitsCommand()))) {
            List<String> args = c instanceof ModelSynthCommand ? List.of("--preset", "tiny", "--out")
                    : List.of("--model", model.toString(), "--tokens", "1", "--out");
            assertUsage(args, dir.resolve("missing/x"), "does not exist", c);
            assertUsage(args, dir, "is a folder", c);
        }
    }

    private static void assertUsage(List<String> before, Path out, String why) {
        assertUsage(before, out, why, new QuantizeModelCommand());
    }

    private static void assertUsage(List<String> before, Path out, String why, AbstractConsoleCommand command) {
        List<String> args = new ArrayList<>(before);
        args.add(out.toString());
        UsageException e = assertThrows(UsageException.class, () -> command.execute(args));
        assertTrue(e.getMessage().startsWith("--out " + out) && e.getMessage().contains(why), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }
}
