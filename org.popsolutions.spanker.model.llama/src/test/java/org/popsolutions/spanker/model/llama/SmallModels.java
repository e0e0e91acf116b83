package org.popsolutions.spanker.model.llama;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;
import org.popsolutions.spanker.ggml.quant.GgmlType;
import org.popsolutions.spanker.ggml.quant.QuantFormats;

/**
 * Small, valid llama models for metadata tests: the golden model's metadata and tokenizer (as llama.cpp wrote
 * them), or a byte-level BPE tokenizer, over tiny random tensors (32 wide, one block) so that thousands of
 * variants can be written and read back in seconds. The runtime's tests run them on cards (test-jar).
 */
public final class SmallModels {
    public static final int EMBEDDING = 32;

    /** A metadata map and the tensors to go with it. */
    public record Model(Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, Map<String, ByteBuffer> data) {
        public Model copy() {
            return new Model(new LinkedHashMap<>(metadata), tensors, new LinkedHashMap<>(data));
        }

        public byte[] bytes() {
            GgufWriter w = new GgufWriter().putAll(metadata);
            for (GgufTensorInfo t : tensors) {
                w.tensor(t.name(), t.type(), t.shape(), data.get(t.name()));
            }
            return w.toBytes();
        }

        public GgufFile read() {
            return GgufReader.read(bytes());
        }
    }

    private SmallModels() {
    }

    /** The golden model's llama (SentencePiece) tokenizer and its other metadata over 32-wide tensors. */
    public static Model sentencePiece() {
        GgufFile golden = GgufReader.readHeader(GoldenModels.model("tiny-llama-q8_0.gguf"));
        Map<String, GgufValue> metadata = new LinkedHashMap<>(golden.metadata());
        int vocabulary = metadata.get("tokenizer.ggml.tokens").asArray().size();
        return withTensors(metadata, vocabulary);
    }

    /** A gpt2 (byte-level BPE) tokenizer: the 256 byte characters, "hi", and a control token. */
    public static Model bytePair() {
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put("general.architecture", GgufValue.string("llama"));
        metadata.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        metadata.put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"));
        String[] tokens = new String[258];
        int[] types = new int[258];
        for (int b = 0; b < 256; b++) {
            tokens[b] = TokenizerTest.byteChar(b);
            types[b] = Tokenizer.NORMAL;
        }
        tokens[256] = "hi";
        types[256] = Tokenizer.NORMAL;
        tokens[257] = "<|begin_of_text|>";
        types[257] = Tokenizer.CONTROL;
        metadata.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        metadata.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        metadata.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, new String[] {"h i"}));
        metadata.put("tokenizer.ggml.bos_token_id", GgufValue.u32(257));
        metadata.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        return withTensors(metadata, tokens.length);
    }

    private static Model withTensors(Map<String, GgufValue> metadata, int vocabulary) {
        String a = "llama.";
        metadata.put(a + "embedding_length", GgufValue.u32(EMBEDDING));
        metadata.put(a + "block_count", GgufValue.u32(1));
        metadata.put(a + "attention.head_count", GgufValue.u32(2));
        metadata.put(a + "attention.head_count_kv", GgufValue.u32(1));
        metadata.put(a + "feed_forward_length", GgufValue.u32(EMBEDDING));
        metadata.put(a + "context_length", GgufValue.u32(64));
        metadata.put(a + "rope.dimension_count", GgufValue.u32(EMBEDDING / 2));
        metadata.putIfAbsent(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(1e-5f));
        metadata.putIfAbsent(a + "rope.freq_base", GgufValue.f32(10000f));
        metadata.put(a + "vocab_size", GgufValue.u32(vocabulary));
        List<GgufTensorInfo> tensors = new ArrayList<>();
        Map<String, ByteBuffer> data = new LinkedHashMap<>();
        SplittableRandom random = new SplittableRandom(3);
        int kv = EMBEDDING / 2;
        add(tensors, data, random, "token_embd.weight", EMBEDDING, vocabulary);
        add(tensors, data, random, "output_norm.weight", EMBEDDING, 1);
        String p = "blk.0.";
        add(tensors, data, random, p + "attn_norm.weight", EMBEDDING, 1);
        add(tensors, data, random, p + "attn_q.weight", EMBEDDING, EMBEDDING);
        add(tensors, data, random, p + "attn_k.weight", EMBEDDING, kv);
        add(tensors, data, random, p + "attn_v.weight", EMBEDDING, kv);
        add(tensors, data, random, p + "attn_output.weight", EMBEDDING, EMBEDDING);
        add(tensors, data, random, p + "ffn_norm.weight", EMBEDDING, 1);
        add(tensors, data, random, p + "ffn_gate.weight", EMBEDDING, EMBEDDING);
        add(tensors, data, random, p + "ffn_up.weight", EMBEDDING, EMBEDDING);
        add(tensors, data, random, p + "ffn_down.weight", EMBEDDING, EMBEDDING);
        return new Model(metadata, tensors, data);
    }

    private static void add(List<GgufTensorInfo> tensors, Map<String, ByteBuffer> data, SplittableRandom random,
            String name, int rowLength, int rows) {
        GgmlType type = rows == 1 ? GgmlType.F32 : GgmlType.Q8_0;
        float[] values = new float[rowLength * rows];
        for (int i = 0; i < values.length; i++) {
            values[i] = rows == 1 ? 1f : (float) (random.nextDouble() - 0.5);
        }
        byte[] bytes = QuantFormats.of(type).quantize(values);
        long[] shape = rows == 1 ? new long[] {rowLength} : new long[] {rowLength, rows};
        tensors.add(new GgufTensorInfo(name, type, shape, 0, bytes.length));
        data.put(name, ByteBuffer.wrap(bytes));
    }
}
