package org.popsolutions.spanker.model.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.FuzzGgufTest;
import org.popsolutions.spanker.ggml.gguf.GgufArray;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/**
 * The mutation fuzz of {@code FuzzGgufTest} carried past the reader, into the model: mutants of the llama config
 * and tokenizer metadata (values of the wrong type, arrays of the wrong element type or length, out-of-range ids,
 * NaN, removed keys), and byte mutants of whole model files, go through {@link LlamaConfig}, {@link Tokenizer}
 * construction and an encode/decode round trip. Each must either work, producing only token ids inside the
 * vocabulary, or fail with an InvalidModelException; a failure names the case seed for replay.
 */
class FuzzModelMetadataTest {
    static final int STRUCTURED_CASES = 4_000;
    static final int BYTE_CASES = 2_000;
    static final String TEXT = "Hello world, ünïcødé\tand 123 \u4e2d\u6587 hi hi!";

    static final List<String> KEYS = List.of("general.architecture", "general.name", "llama.embedding_length",
            "llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv",
            "llama.feed_forward_length", "llama.context_length", "llama.rope.dimension_count",
            "llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "llama.vocab_size",
            "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
            "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id",
            "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token",
            "tokenizer.ggml.add_space_prefix");

    @Test
    void metadataMutantsOnlyEverWorkOrFailAsInvalidModel() {
        SmallModels.Model[] bases = {SmallModels.sentencePiece(), SmallModels.bytePair()};
        for (SmallModels.Model base : bases) {
            exercise(base.read(), "the unmutated base"); // the bases themselves must work
        }
        SplittableRandom random = new SplittableRandom(0x70c3);
        int accepted = 0;
        for (int c = 0; c < STRUCTURED_CASES; c++) {
            long caseSeed = random.nextLong();
            SplittableRandom r = new SplittableRandom(caseSeed);
            SmallModels.Model mutant = bases[r.nextInt(bases.length)].copy();
            int mutations = 1 + r.nextInt(2);
            StringBuilder what = new StringBuilder();
            for (int m = 0; m < mutations; m++) {
                String key = KEYS.get(r.nextInt(KEYS.size()));
                GgufValue before = mutant.metadata().get(key);
                GgufValue after = mutateValue(before, r);
                if (after == null) {
                    mutant.metadata().remove(key);
                } else {
                    mutant.metadata().put(key, after);
                }
                what.append(key).append(" -> ").append(after).append("; ");
            }
            accepted += survives(mutant.bytes(), "metadata mutant " + c + " (case seed " + caseSeed + ": " + what
                    + ")") ? 1 : 0;
        }
        assertTrue(accepted > STRUCTURED_CASES / 20 && accepted < STRUCTURED_CASES * 9 / 10, accepted + " of "
                + STRUCTURED_CASES + " metadata mutants accepted");
    }

    @Test
    void byteMutantsOfModelFilesOnlyEverWorkOrFailAsInvalidModel() {
        byte[][] bases = {SmallModels.sentencePiece().bytes(), SmallModels.bytePair().bytes()};
        SplittableRandom random = new SplittableRandom(0xb17e);
        int accepted = 0;
        for (int c = 0; c < BYTE_CASES; c++) {
            long caseSeed = random.nextLong();
            SplittableRandom r = new SplittableRandom(caseSeed);
            byte[] base = bases[r.nextInt(bases.length)];
            // the metadata comes first: most mutations land in it (the rest in the tensor table and data)
            byte[] mutant = FuzzGgufTest.mutate(base, r);
            accepted += survives(mutant, "byte mutant " + c + " (case seed " + caseSeed + ")") ? 1 : 0;
        }
        assertTrue(accepted > 0 && accepted < BYTE_CASES, accepted + " of " + BYTE_CASES + " byte mutants accepted");
    }

    /** True when the mutant works as a model; false when refused as an invalid model; fails on anything else. */
    private static boolean survives(byte[] mutant, String what) {
        try {
            GgufFile file = GgufReader.read(mutant);
            exercise(file, what);
            return true;
        } catch (InvalidModelException expected) {
            return false;
        } catch (Throwable t) {
            fail(what + " threw " + t, t);
            return false;
        }
    }

    /** What run does with a model's metadata: its config, its tokenizer, a prompt encoded, tokens decoded. */
    private static void exercise(GgufFile file, String what) {
        LlamaConfig config = LlamaConfig.of(file);
        GgufModelReader.shapeOf(file);
        Tokenizer tokenizer = Tokenizer.of(file);
        int[] ids = tokenizer.encode(TEXT, tokenizer.addsBos());
        for (int id : ids) {
            if (id < 0 || id >= config.vocabulary()) {
                fail(what + ": encoding gave token " + id + " outside the vocabulary 0.." + (config.vocabulary() - 1)
                        + " (" + Arrays.toString(ids) + ")");
            }
        }
        tokenizer.decode(Arrays.stream(ids).boxed().toList());
        List<Integer> every = new ArrayList<>();
        for (int t = 0; t < config.vocabulary(); t++) {
            every.add(t);
        }
        tokenizer.decode(every);
        for (int special : new int[] {tokenizer.bosToken(), tokenizer.eosToken()}) {
            if (special < -1 || special >= config.vocabulary()) {
                fail(what + ": special token " + special + " outside the vocabulary");
            }
        }
    }

    static final long[] INTERESTING = {0, 1, 2, 3, 5, 6, 7, 31, 32, 255, 256, 257, 511, 512, 513, 0x7fffffffL,
            0x80000000L, 0xffffffffL, -1, -2, Long.MAX_VALUE};

    /** A changed value of another type, or the same type with other contents; null removes the key. */
    static GgufValue mutateValue(GgufValue v, SplittableRandom r) {
        switch (r.nextInt(v == null ? 5 : 9)) {
            case 0:
                return GgufValue.string(r.nextBoolean() ? "llama" : r.nextBoolean() ? "gpt2" : "x");
            case 1:
                return new GgufValue(GgufValueType.UINT32, (int) INTERESTING[r.nextInt(INTERESTING.length)]);
            case 2:
                return new GgufValue(GgufValueType.INT64, INTERESTING[r.nextInt(INTERESTING.length)]);
            case 3:
                return GgufValue.f32(new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f, 0f, 1e-5f, 1e30f}[r.nextInt(
                        6)]);
            case 4:
                return r.nextBoolean() ? GgufValue.bool(r.nextBoolean()) : randomArray(r, 1 + r.nextInt(600));
            case 5:
                return null;
            default:
                return v.type() == GgufValueType.ARRAY ? mutateArray(v.asArray(), r) : randomArray(r, r.nextInt(4));
        }
    }

    private static GgufValue randomArray(SplittableRandom r, int n) {
        return switch (r.nextInt(4)) {
            case 0 -> {
                String[] s = new String[n];
                for (int i = 0; i < n; i++) {
                    s[i] = new String[] {"", "<0x41>", "<0xZZ>", "<0x", "\u2581", "a", "h i", "<s>"}[r.nextInt(8)];
                }
                yield GgufValue.array(GgufValueType.STRING, s);
            }
            case 1 -> {
                int[] a = new int[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (int) INTERESTING[r.nextInt(INTERESTING.length)];
                }
                yield GgufValue.array(r.nextBoolean() ? GgufValueType.INT32 : GgufValueType.UINT32, a);
            }
            case 2 -> {
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    f[i] = r.nextInt(10) == 0 ? Float.NaN : (float) -r.nextDouble(100);
                }
                yield GgufValue.array(GgufValueType.FLOAT32, f);
            }
            default -> GgufValue.array(GgufValueType.ARRAY, new GgufArray[] {
                    new GgufArray(GgufValueType.INT16, new short[] {1, 2})});
        };
    }

    /** Same element type: truncated, lengthened, or with a few elements replaced; or the elements retyped. */
    private static GgufValue mutateArray(GgufArray a, SplittableRandom r) {
        int n = a.size();
        switch (r.nextInt(4)) {
            case 0: { // truncated or lengthened by repeating the tail
                int length = r.nextBoolean() ? r.nextInt(n + 1) : n + 1 + r.nextInt(8);
                Object values = resize(a, length);
                return GgufValue.array(a.elementType(), values);
            }
            case 1: // the same length, another element type
                return randomArray(r, n);
            default: { // a few elements replaced
                Object values = resize(a, n);
                for (int k = 0; k < 1 + r.nextInt(4) && n > 0; k++) {
                    int i = r.nextInt(n);
                    if (values instanceof String[] s) {
                        s[i] = new String[] {"", "<0x41>", "<0xZZ>", "<0x", "\u2581", "h i", "<unk>"}[r.nextInt(7)];
                    } else if (values instanceof int[] ints) {
                        ints[i] = (int) INTERESTING[r.nextInt(INTERESTING.length)];
                    } else if (values instanceof float[] f) {
                        f[i] = new float[] {Float.NaN, Float.NEGATIVE_INFINITY, 0f, 1e30f}[r.nextInt(4)];
                    }
                }
                return GgufValue.array(a.elementType(), values);
            }
        }
    }

    private static Object resize(GgufArray a, int length) {
        Object v = a.values();
        if (v instanceof String[] s) {
            String[] out = Arrays.copyOf(s, length);
            for (int i = s.length; i < length; i++) {
                out[i] = s.length == 0 ? "x" : s[s.length - 1];
            }
            return out;
        }
        if (v instanceof int[] ints) {
            return Arrays.copyOf(ints, length);
        }
        if (v instanceof float[] f) {
            return Arrays.copyOf(f, length);
        }
        if (v instanceof short[] sh) {
            return Arrays.copyOf(sh, length);
        }
        if (v instanceof byte[] b) {
            return Arrays.copyOf(b, length);
        }
        if (v instanceof long[] l) {
            return Arrays.copyOf(l, length);
        }
        if (v instanceof GgufArray[] nested) {
            return Arrays.copyOf(nested, Math.min(length, nested.length)); // never null elements
        }
        if (v instanceof boolean[] flags) {
            return Arrays.copyOf(flags, length);
        }
        return v;
    }
}
