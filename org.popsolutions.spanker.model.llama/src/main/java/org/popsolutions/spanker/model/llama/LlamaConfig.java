package org.popsolutions.spanker.model.llama;

import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/**
 * The hyper-parameters of a llama-family model, from the {@code <architecture>.*} keys of its GGUF metadata
 * (SPEC §7), checked against the tensor table.
 *
 * @param ropeDimensions how many leading values of each head RoPE rotates (rope.dimension_count, default the head
 *        dimension)
 */
public record LlamaConfig(String name, String architecture, int embedding, int layers, int heads, int kvHeads,
        int feedForward, int vocabulary, int contextLength, float rmsEpsilon, float ropeBase, int ropeDimensions,
        boolean tiedOutput) {

    public int headDimension() {
        return embedding / heads;
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    public int kvDimension() {
        return kvHeads * headDimension();
    }

    public static LlamaConfig of(GgufFile file) {
        String arch = string(file, "general.architecture")
                .orElseThrow(() -> new InvalidModelException("not a model: general.architecture is missing"));
        String name = string(file, "general.name").orElse("model");
        int embedding = required(file, arch + ".embedding_length");
        int layers = required(file, arch + ".block_count");
        int heads = required(file, arch + ".attention.head_count");
        int kvHeads = optionalInt(file, arch + ".attention.head_count_kv").orElse(heads);
        int feedForward = required(file, arch + ".feed_forward_length");
        int context = required(file, arch + ".context_length");
        float eps = positiveFloat(file, arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
        float base = positiveFloat(file, arch + ".rope.freq_base", 10000f);
        if (embedding < 1 || layers < 0 || heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || embedding % heads != 0
                || feedForward < 1 || context < 1) {
            throw new InvalidModelException("inconsistent " + arch + " hyper-parameters: embedding=" + embedding
                    + " layers=" + layers + " heads=" + heads + " kv heads=" + kvHeads + " feed-forward=" + feedForward
                    + " context=" + context + " (heads must divide the embedding, kv heads the heads)");
        }
        int headDim = embedding / heads;
        int ropeDims = optionalInt(file, arch + ".rope.dimension_count").orElse(headDim);
        if (ropeDims < 0 || ropeDims > headDim || ropeDims % 2 != 0) {
            throw new InvalidModelException(arch + ".rope.dimension_count is " + ropeDims + "; expected an even number"
                    + " up to the head dimension " + headDim);
        }
        GgufTensorInfo embd = tensor(file, "token_embd.weight");
        int vocabulary = (int) embd.rows();
        int declared = optionalInt(file, arch + ".vocab_size").orElse(vocabulary);
        if (declared != vocabulary) {
            throw new InvalidModelException(arch + ".vocab_size is " + declared + " but token_embd.weight has "
                    + vocabulary + " rows");
        }
        boolean tied = file.tensor("output.weight").isEmpty();
        LlamaConfig config = new LlamaConfig(name, arch, embedding, layers, heads, kvHeads, feedForward, vocabulary,
                context, eps, base, ropeDims, tied);
        config.checkTensors(file);
        return config;
    }

    private void checkTensors(GgufFile file) {
        int kvDim = kvDimension();
        shape(file, "token_embd.weight", embedding, vocabulary);
        shape(file, "output_norm.weight", embedding, 1);
        if (!tiedOutput) {
            shape(file, "output.weight", embedding, vocabulary);
        }
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            shape(file, p + "attn_norm.weight", embedding, 1);
            shape(file, p + "attn_q.weight", embedding, embedding);
            shape(file, p + "attn_k.weight", embedding, kvDim);
            shape(file, p + "attn_v.weight", embedding, kvDim);
            shape(file, p + "attn_output.weight", embedding, embedding);
            shape(file, p + "ffn_norm.weight", embedding, 1);
            shape(file, p + "ffn_gate.weight", embedding, feedForward);
            shape(file, p + "ffn_up.weight", embedding, feedForward);
            shape(file, p + "ffn_down.weight", feedForward, embedding);
        }
    }

    private static void shape(GgufFile file, String name, long rowLength, long rows) {
        GgufTensorInfo t = tensor(file, name);
        if (t.rowLength() != rowLength || t.rows() != rows) {
            throw new InvalidModelException("tensor " + name + " is " + t.rowLength() + " x " + t.rows()
                    + " (row length x rows); the hyper-parameters need " + rowLength + " x " + rows);
        }
        if (!t.type().computable() || rows > 1 && !org.popsolutions.spanker.ggml.kernel.Kernels.supports(t.type())) {
            throw new InvalidModelException("tensor " + name + " is " + t.type().ggmlName()
                    + ", which this build cannot compute with");
        }
    }

    public static GgufTensorInfo tensor(GgufFile file, String name) {
        return file.tensor(name).orElseThrow(() -> new InvalidModelException("the model has no tensor " + name
                + "; a llama-family model needs it"));
    }

    /** A string value, or an error naming the key and the type found. */
    public static Optional<String> string(GgufFile file, String key) {
        return file.value(key).map(v -> {
            if (v.type() != GgufValueType.STRING) {
                throw new InvalidModelException("model metadata " + key + " should be a string, found " + v.type());
            }
            return v.asString();
        });
    }

    /** A float32/float64 value that is finite and above zero (NaN or a negative scale makes every logit NaN). */
    private static float positiveFloat(GgufFile file, String key, float fallback) {
        GgufValue v = file.value(key).orElse(null);
        if (v == null) {
            return fallback;
        }
        if (v.type() != GgufValueType.FLOAT32 && v.type() != GgufValueType.FLOAT64) {
            throw new InvalidModelException("model metadata " + key + " should be a float32, found " + v.type());
        }
        float f = (float) v.asDouble();
        if (!Float.isFinite(f) || f <= 0) {
            throw new InvalidModelException("model metadata " + key + " is " + f + "; expected a finite number"
                    + " above zero");
        }
        return f;
    }

    private static int required(GgufFile file, String key) {
        return optionalInt(file, key).orElseThrow(() -> new InvalidModelException("model metadata lacks " + key));
    }

    private static Optional<Integer> optionalInt(GgufFile file, String key) {
        return file.value(key).map(v -> {
            if (!v.isInteger()) {
                throw new InvalidModelException("model metadata " + key + " should be an integer, found " + v.type());
            }
            long n = v.asLong();
            if (n < 0 || n > Integer.MAX_VALUE) {
                throw new InvalidModelException("model metadata " + key + " = " + n + " is out of range");
            }
            return (int) n;
        });
    }
}
