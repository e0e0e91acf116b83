package org.popsolutions.spanker.ggml.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

class GgufReaderTest {
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32.gguf", "tiny-llama-q8_0.gguf"})
    void readsTheGoldenLlamaModels(String name) throws Exception {
        GgufFile f = GgufReader.open(GoldenModels.model(name));
        assertEquals(3, f.version());
        assertEquals(32, f.alignment());
        assertEquals("llama", f.value("general.architecture").orElseThrow().asString());
        assertEquals(2, f.value("llama.block_count").orElseThrow().asLong());
        assertEquals(256, f.value("llama.embedding_length").orElseThrow().asLong());
        assertEquals(8, f.value("llama.attention.head_count").orElseThrow().asLong());
        assertEquals(4, f.value("llama.attention.head_count_kv").orElseThrow().asLong());
        assertEquals(1e-5f, (float) f.value("llama.attention.layer_norm_rms_epsilon").orElseThrow().asDouble());
        GgufArray tokens = f.value("tokenizer.ggml.tokens").orElseThrow().asArray();
        assertEquals(512, tokens.size());
        assertEquals("<s>", tokens.strings()[1]);
        assertEquals(2 * 9 + 3, f.tensors().size());
        GgufTensorInfo embd = f.tensor("token_embd.weight").orElseThrow();
        assertArrayEquals(new long[] {256, 512}, embd.shape());
        GgmlType weightType = name.contains("q8_0") ? GgmlType.Q8_0 : GgmlType.F32;
        for (GgufTensorInfo t : f.tensors()) {
            assertEquals(t.dimensions() == 2 ? weightType : GgmlType.F32, t.type(), t.name());
            ByteBuffer data = f.data(t);
            assertTrue(data.isDirect(), "tensor bytes are memory-mapped, not copied");
            assertEquals(t.byteSize(), data.capacity());
            float[] row = new float[(int) t.rowLength()];
            QuantFormats.of(t.type()).dequantize(data, 0, row, 0, row.length);
            for (float v : row) {
                assertTrue(Float.isFinite(v) && Math.abs(v) < 100, t.name() + " value " + v);
            }
        }
        assertEquals(1.0f, f.data("blk.0.attn_norm.weight").getFloat(0), 10f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32.gguf", "tiny-llama-q8_0.gguf"})
    void writerReproducesLlamaCppFilesByteForByte(String name, @TempDir Path dir) throws Exception {
        Path original = GoldenModels.model(name);
        GgufFile f = GgufReader.open(original);
        GgufWriter w = new GgufWriter().putAll(f.metadata());
        for (GgufTensorInfo t : f.tensors()) {
            w.tensor(t.name(), t.type(), t.shape(), f.data(t));
        }
        Path copy = dir.resolve("copy.gguf");
        w.write(copy);
        assertEquals(-1, Files.mismatch(original, copy));
    }

    @Test
    void theTensorReaderGivesEveryTensorsBytesFromTheFileFromAnImageAndFromAHeaderOnlyOpen(@TempDir Path dir)
            throws Exception {
        Path model = GoldenModels.model("tiny-llama-q8_0.gguf");
        GgufFile mapped = GgufReader.open(model);
        GgufFile image = GgufReader.read(Files.readAllBytes(model));
        GgufFile header = GgufReader.readHeader(model);
        try (GgufFile.TensorReader fromFile = mapped.openReader(); GgufFile.TensorReader fromImage = image.openReader();
                GgufFile.TensorReader fromHeader = header.openReader()) {
            for (GgufTensorInfo t : mapped.tensors()) {
                ByteBuffer expected = mapped.data(t);
                // a range in the middle, into a buffer whose position is not 0: the reader fills position..limit
                long from = t.byteSize() / 3;
                int length = (int) (t.byteSize() - from) / 2;
                for (GgufFile.TensorReader reader : List.of(fromFile, fromImage, fromHeader)) {
                    ByteBuffer target = ByteBuffer.allocate(length + 7).position(7);
                    reader.read(t, from, target);
                    assertEquals(length + 7, target.position(), "filled to the limit");
                    assertEquals(expected.slice((int) from, length), target.position(7),
                            t.name() + ": the same bytes as the mapping");
                }
            }
            GgufTensorInfo first = mapped.tensors().get(0);
            assertThrows(IllegalArgumentException.class,
                    () -> fromFile.read(first, first.byteSize() - 3, ByteBuffer.allocate(4)));
        }
        // a file cut short after it was opened: a named model error, never a short buffer
        Path cut = dir.resolve("cut.gguf");
        Files.copy(model, cut);
        GgufFile opened = GgufReader.readHeader(cut);
        GgufTensorInfo last = opened.tensors().get(opened.tensors().size() - 1);
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(cut,
                java.nio.file.StandardOpenOption.WRITE); GgufFile.TensorReader reader = opened.openReader()) {
            c.truncate(opened.dataOffset() + last.offset() + 4);
            InvalidModelException e = assertThrows(InvalidModelException.class,
                    () -> reader.read(last, 0, ByteBuffer.allocate((int) last.byteSize())));
            assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains(last.name()), e.getMessage());
        }
    }

    @Test
    void everyValueTypeAndNestedArraysRoundTrip() {
        GgufWriter w = new GgufWriter()
                .put("u8", new GgufValue(GgufValueType.UINT8, (byte) 0xfe))
                .put("i8", new GgufValue(GgufValueType.INT8, (byte) -3))
                .put("u16", new GgufValue(GgufValueType.UINT16, (short) 0xfffe))
                .put("i16", new GgufValue(GgufValueType.INT16, (short) -300))
                .put("u32", GgufValue.u32(0xfffffffeL))
                .put("i32", GgufValue.i32(-70000))
                .put("f32", GgufValue.f32(1.5f))
                .put("bool", GgufValue.bool(true))
                .put("string", GgufValue.string("héllo ⛵"))
                .put("u64", GgufValue.u64(-2L))
                .put("i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE))
                .put("f64", new GgufValue(GgufValueType.FLOAT64, Math.PI))
                .put("strings", GgufValue.array(GgufValueType.STRING, new String[] {"a", "", "ccc"}))
                .put("floats", GgufValue.array(GgufValueType.FLOAT32, new float[] {1, 2, Float.NaN}))
                .put("bools", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false}))
                .put("u16s", GgufValue.array(GgufValueType.UINT16, new short[] {1, -1}))
                .put("f64s", GgufValue.array(GgufValueType.FLOAT64, new double[] {0.25}))
                .put("u64s", GgufValue.array(GgufValueType.UINT64, new long[] {5, -1}))
                .put("empty", GgufValue.array(GgufValueType.INT32, new int[0]))
                .put("nested", GgufValue.array(GgufValueType.ARRAY, new GgufArray[] {
                        new GgufArray(GgufValueType.INT8, new byte[] {1, 2}),
                        new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                                new GgufArray(GgufValueType.STRING, new String[] {"deep"})})}));
        GgufFile f = GgufReader.read(w.toBytes());
        assertEquals(254, f.value("u8").orElseThrow().asLong());
        assertEquals(-3, f.value("i8").orElseThrow().asLong());
        assertEquals(65534, f.value("u16").orElseThrow().asLong());
        assertEquals(-300, f.value("i16").orElseThrow().asLong());
        assertEquals(0xfffffffeL, f.value("u32").orElseThrow().asLong());
        assertEquals("18446744073709551614", f.value("u64").orElseThrow().toString());
        assertEquals("héllo ⛵", f.value("string").orElseThrow().asString());
        assertEquals(Math.PI, f.value("f64").orElseThrow().asDouble());
        assertEquals(1L, f.value("bool").orElseThrow().asLong());
        assertEquals(List.copyOf(w.metadata().keySet()), List.copyOf(f.metadata().keySet()));
        assertEquals(w.metadata(), f.metadata());
        GgufArray nested = f.value("nested").orElseThrow().asArray();
        GgufArray inner = ((GgufArray[]) nested.values())[1];
        assertEquals("deep", ((GgufArray[]) inner.values())[0].strings()[0]);
        assertArrayEquals(w.toBytes(), rewrite(f));
    }

    @Test
    void customAlignmentAndTensorLayout() {
        float[] values = {1, 2, 3, 4, 5, 6};
        byte[] f32 = QuantFormats.of(GgmlType.F32).quantize(values);
        byte[] q8 = QuantFormats.of(GgmlType.Q8_0).quantize(new float[64]);
        GgufWriter w = new GgufWriter().put(GgufFile.ALIGNMENT_KEY, GgufValue.u32(64))
                .tensor("a", GgmlType.F32, new long[] {3, 2}, ByteBuffer.wrap(f32))
                .tensor("b", GgmlType.Q8_0, new long[] {64}, ByteBuffer.wrap(q8));
        GgufFile f = GgufReader.read(w.toBytes());
        assertEquals(64, f.alignment());
        assertEquals(0, f.dataOffset() % 64);
        assertEquals(64, f.tensor("b").orElseThrow().offset());
        assertEquals(2, f.tensor("a").orElseThrow().rows());
        assertEquals(6f, f.data("a").order(ByteOrder.LITTLE_ENDIAN).getFloat(20));
    }

    static byte[] rewrite(GgufFile f) {
        GgufWriter w = new GgufWriter().putAll(f.metadata());
        for (GgufTensorInfo t : f.tensors()) {
            w.tensor(t.name(), t.type(), t.shape(), f.data(t));
        }
        return w.toBytes();
    }
}
