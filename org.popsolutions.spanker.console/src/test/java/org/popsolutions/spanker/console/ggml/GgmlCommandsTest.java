package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.Golden;

class GgmlCommandsTest {
    @TempDir
    Path dir;

    private Path resource(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, Golden.bytes(name));
        return p;
    }

    private static JsonObject json(CommandResult r) {
        assertTrue(r.isJson());
        return JsonParser.parseString(r.json()).getAsJsonObject();
    }

    @Test
    void quantizeAndDequantizeReproduceGgmlsFiles() throws Exception {
        Path in = resource("w256.f32");
        for (String type : List.of("q4_0", "q4_1", "q8_0", "q4_K", "q6_K", "f16", "bf16")) {
            Path bin = dir.resolve("w." + type + ".bin");
            Path back = dir.resolve("w." + type + ".f32");
            new QuantizeCommand().execute(List.of("--type", type, "--in", in.toString(), "--out", bin.toString()));
            assertArrayEquals(Golden.bytes("w256." + type + ".bin"), Files.readAllBytes(bin), type);
            CommandResult r = new DequantizeCommand().execute(List.of("--type", type, "--in", bin.toString(), "--out",
                    back.toString(), "--json"));
            assertEquals(256, json(r).get("values").getAsInt());
            assertArrayEquals(Golden.bytes("w256." + type + ".dequant.f32"), Files.readAllBytes(back), type);
        }
    }

    @Test
    void dotPrintsBothModes() throws Exception {
        Path w = resource("w256.q4_0.bin");
        Path a = resource("a256.f32");
        CommandResult r = new DotCommand().execute(List.of("--type", "q4_0", "--weights", w.toString(),
                "--activations", a.toString(), "--json"));
        JsonObject o = json(r);
        assertEquals(List.of("ggml", "float"), List.copyOf(o.keySet()));
        assertEquals(8.294157603755593, o.get("ggml").getAsDouble(), 1e-5 * 69.02); // dots256.json
        assertEquals(8.29, o.get("float").getAsDouble(), 0.1);
    }

    @Test
    void dotRefusesMismatchedFiles() throws Exception {
        Path w = resource("w256.q4_0.bin");
        Path a = resource("w256.f32");
        assertThrows(UsageException.class, () -> new DotCommand().execute(List.of("--type", "q8_0", "--weights",
                w.toString(), "--activations", a.toString())));
        assertThrows(UsageException.class, () -> new QuantizeCommand().execute(List.of("--type", "q9_0", "--in",
                a.toString(), "--out", "x")));
        assertThrows(UsageException.class, () -> new QuantizeCommand().execute(List.of("--type", "q4_0", "--in",
                dir.resolve("missing.f32").toString(), "--out", "x")));
    }

    @Test
    void ggufShowsHeaderMetadataAndTensors() {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        CommandResult table = new GgufCommand().execute(List.of(model.toString()));
        assertEquals(3, table.tables().size());
        assertEquals(21, table.tables().get(2).rows().size());
        assertTrue(table.tables().get(1).rows().stream().anyMatch(r -> r.get(0).equals("tokenizer.ggml.tokens")
                && r.get(2).contains("(512 items)")));
        JsonObject o = json(new GgufCommand().execute(List.of(model.toString(), "--json")));
        assertEquals(3, o.get("version").getAsInt());
        assertEquals("llama", o.getAsJsonObject("metadata").get("general.architecture").getAsString());
        assertEquals(512, o.getAsJsonObject("metadata").getAsJsonObject("tokenizer.ggml.tokens").get("length")
                .getAsInt());
        assertEquals("q8_0", o.getAsJsonArray("tensors").get(0).getAsJsonObject().get("type").getAsString());
    }

    @Test
    void ggufOnABadFileIsAnInvalidModel() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 9, 0, 0, 0});
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> new GgufCommand().execute(List.of(bad.toString())));
        assertTrue(e.getMessage().contains("version 9"));
        assertThrows(UsageException.class, () -> new GgufCommand().execute(List.of()));
    }

    @Test
    void quantizeModelLikeLlamaQuantizePure() {
        Path out = dir.resolve("q4_k.gguf");
        CommandResult r = new QuantizeModelCommand().execute(List.of("--in",
                GoldenModels.model("tiny-llama-f32.gguf").toString(), "--out", out.toString(), "--type", "q4_k",
                "--json"));
        assertEquals(21, json(r).get("converted").getAsInt() + 5); // 5 norms stay f32
        GgufFile q = GgufReader.open(out);
        assertEquals(14, q.value("general.file_type").orElseThrow().asLong());
        for (GgufTensorInfo t : q.tensors()) {
            assertEquals(t.dimensions() == 2 ? GgmlType.Q4_K : GgmlType.F32, t.type(), t.name());
        }
        // Q8_0 from the F32 model is exactly what llama.cpp wrote into the golden q8_0 model
        Path q8 = dir.resolve("q8_0.gguf");
        new QuantizeModelCommand().execute(List.of("--in", GoldenModels.model("tiny-llama-f32.gguf").toString(),
                "--out", q8.toString(), "--type", "q8_0"));
        GgufFile ours = GgufReader.open(q8);
        GgufFile theirs = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        for (GgufTensorInfo t : theirs.tensors()) {
            assertEquals(theirs.data(t), ours.data(t), t.name());
        }
    }

    @Test
    void benchMatvecReportsThroughput() {
        CommandResult r = new BenchMatvecCommand().execute(List.of("--type", "q8_0", "--rows", "64", "--cols", "256",
                "--threads", "2", "--passes", "3", "--json"));
        JsonObject o = json(r);
        assertEquals(3, o.get("passes").getAsInt());
        assertTrue(o.get("gbps").getAsDouble() > 0);
        assertTrue(o.get("copies").getAsInt() >= 1);
        assertThrows(UsageException.class, () -> new BenchMatvecCommand().execute(List.of("--type", "q4_k", "--cols",
                "100")));
    }

    @Test
    void benchMatvecRepeatsAndReportsMeanAndStandardDeviation() {
        CommandResult r = new BenchMatvecCommand().execute(List.of("--type", "q8_0", "--rows", "64", "--cols", "256",
                "--passes", "2", "--repetitions", "3", "--json"));
        JsonObject o = json(r);
        assertEquals(3, o.get("repetitions").getAsInt());
        assertEquals(6, o.get("passes").getAsInt(), "2 passes in each of 3 repetitions");
        assertTrue(o.get("gflopsSd").getAsDouble() >= 0);
        CommandResult table = new BenchMatvecCommand().execute(List.of("--type", "q8_0", "--rows", "64", "--cols",
                "256", "--passes", "2", "--repetitions", "2"));
        int gflopsSd = table.tables().get(0).headers().indexOf("GFLOP/s") + 1;
        assertEquals("± sd", table.tables().get(0).headers().get(gflopsSd), table.tables().toString());
        assertTrue(Double.parseDouble(table.tables().get(0).rows().get(0).get(gflopsSd)) >= 0, table.tables().toString());
        assertThrows(UsageException.class, () -> new BenchMatvecCommand().execute(List.of("--repetitions", "0")));
    }

    /**
     * bench-matmul multiplies what it says: its checksum (the sum of every result) is that of matrix-vector products of
     * the same weights and vectors, one vector at a time, over 70 vectors (a pass of 64, then one of 6).
     */
    @Test
    void benchMatmulMultipliesEveryVectorOfEveryPass() {
        int rows = 40;
        int cols = 256;
        int vectors = 70;
        JsonObject o = json(new BenchMatmulCommand().execute(List.of("--type", "q8_0", "--rows", "" + rows, "--cols",
                "" + cols, "--vectors", "" + vectors, "--seconds", "0.01", "--kernels", "scalar", "--json")));
        assertEquals(vectors, o.get("vectors").getAsInt());
        assertTrue(o.get("products").getAsInt() >= 3);
        assertTrue(o.get("callerCpuMicros").getAsDouble() > 0);
        // the command's data: weights, then vectors, from one SplittableRandom(42) of Gaussians
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        int rowBytes = (int) GgmlType.Q8_0.bytesFor(cols);
        java.nio.ByteBuffer w = java.nio.ByteBuffer.allocate(rows * rowBytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                row[c] = (float) random.nextGaussian();
            }
            org.popsolutions.spanker.ggml.quant.QuantFormats.of(GgmlType.Q8_0).quantize(row, 0, w, r * rowBytes, cols);
        }
        float[][] x = new float[vectors][cols];
        for (float[] v : x) {
            for (int c = 0; c < cols; c++) {
                v[c] = (float) random.nextGaussian();
            }
        }
        double checksum = 0;
        try (org.popsolutions.spanker.ggml.kernel.RowExecutor executor = new org.popsolutions.spanker.ggml.kernel
                .RowExecutor(1)) {
            org.popsolutions.spanker.ggml.kernel.MatVec matvec = new org.popsolutions.spanker.ggml.kernel.MatVec(
                    org.popsolutions.spanker.ggml.kernel.Kernels.scalar(), executor);
            float[] out = new float[rows];
            for (float[] v : x) {
                matvec.matvec(GgmlType.Q8_0, w, rows, cols, v, out, org.popsolutions.spanker.ggml.kernel.DotMode.GGML);
                for (float f : out) {
                    checksum += f;
                }
            }
        }
        assertEquals(checksum, o.get("checksum").getAsDouble(), 1e-9 * Math.max(1, Math.abs(checksum)));
        assertThrows(UsageException.class, () -> new BenchMatmulCommand().execute(List.of("--vectors", "0")));
        assertThrows(UsageException.class, () -> new BenchMatmulCommand().execute(List.of("--type", "q4_k", "--cols",
                "100")));
    }

    @Test
    void meanAndSampleStandardDeviation() {
        MeanSd m = MeanSd.of(new double[] {2, 4, 4, 4, 5, 5, 7, 9});
        assertEquals(5.0, m.mean());
        assertEquals(Math.sqrt(32.0 / 7), m.sd(), 1e-12);
        assertEquals("5.00 ± 2.14", m.format("%.2f"));
        assertEquals("3.0", MeanSd.of(new double[] {3}).format("%.1f"), "one sample: no spread shown");
    }
}
