package org.popsolutions.spanker.model.llama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/**
 * Each kind of malformed llama config or tokenizer metadata that used to pass {@code gguf} and {@code plan} and
 * then kill {@code run} with an IllegalArgument-, ClassCast- or StringIndexOutOfBoundsException: now an
 * InvalidModelException naming the key, already where plan reads the model.
 */
class MalformedModelMetadataTest {
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String TYPES = "tokenizer.ggml.token_type";

    /** The SentencePiece model with one change; refused by plan's reader and by the tokenizer, naming the key. */
    static InvalidModelException refused(SmallModels.Model base, Consumer<SmallModels.Model> change, String key) {
        SmallModels.Model m = base.copy();
        change.accept(m);
        GgufFile file = m.read();
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> {
            GgufModelReader.shapeOf(file);
            Tokenizer.of(file).encode("The sails", true);
        });
        assertTrue(e.getMessage().contains(key), key + " not named in: " + e.getMessage());
        return e;
    }

    static String[] tokens(SmallModels.Model m) {
        return m.metadata().get(TOKENS).asArray().strings();
    }

    @Test
    void theBasesAreValid() {
        for (SmallModels.Model m : new SmallModels.Model[] {SmallModels.sentencePiece(), SmallModels.bytePair()}) {
            GgufFile file = m.read();
            Tokenizer t = Tokenizer.of(file);
            assertEquals(LlamaConfig.of(file).vocabulary(), t.vocabularySize());
            assertTrue(t.encode("hi there", true).length > 1);
        }
    }

    @Test
    void tokensShorterThanTheVocabulary() {
        SmallModels.Model base = SmallModels.sentencePiece();
        InvalidModelException e = refused(base, m -> m.metadata().put(TOKENS, GgufValue.array(GgufValueType.STRING,
                Arrays.copyOf(tokens(m), 100))), TOKENS);
        assertTrue(e.getMessage().contains("100 tokens") && e.getMessage().contains("512"), e.getMessage());
    }

    @Test
    void tokensOrMergesStoredAsIntegers() {
        refused(SmallModels.sentencePiece(), m -> m.metadata().put(TOKENS, GgufValue.array(GgufValueType.INT32,
                new int[tokens(m).length])), TOKENS);
        refused(SmallModels.bytePair(), m -> m.metadata().put("tokenizer.ggml.merges", GgufValue.array(
                GgufValueType.INT32, new int[] {1})), "tokenizer.ggml.merges");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put(TOKENS, GgufValue.u32(5)), TOKENS);
    }

    @Test
    void scoresStoredAsStringsOrOfTheWrongLength() {
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.scores", GgufValue.array(
                GgufValueType.STRING, tokens(m))), "tokenizer.ggml.scores");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.scores", GgufValue.array(
                GgufValueType.FLOAT32, new float[3])), "tokenizer.ggml.scores");
    }

    @Test
    void tokenTypesAllByteAsStringsOrOutOfRange() {
        // every token a byte token: "<unk>" is no <0xXX> (was a StringIndexOutOfBoundsException when decoding)
        int n = tokens(SmallModels.sentencePiece()).length;
        int[] allByte = new int[n];
        Arrays.fill(allByte, Tokenizer.BYTE);
        InvalidModelException e = refused(SmallModels.sentencePiece(), m -> m.metadata().put(TYPES,
                GgufValue.array(GgufValueType.INT32, allByte)), TYPES);
        assertTrue(e.getMessage().contains("token 0"), e.getMessage());
        refused(SmallModels.sentencePiece(), m -> m.metadata().put(TYPES, GgufValue.array(GgufValueType.STRING,
                tokens(m))), TYPES);
        int[] wild = new int[n];
        Arrays.fill(wild, 1);
        wild[7] = 99;
        refused(SmallModels.sentencePiece(), m -> m.metadata().put(TYPES, GgufValue.array(GgufValueType.INT32,
                wild)), TYPES);
        refused(SmallModels.sentencePiece(), m -> m.metadata().put(TYPES, GgufValue.array(GgufValueType.INT32,
                new int[] {1, 1})), TYPES);
    }

    @Test
    void specialTokenIdsAndFlagsOfTheWrongKind() {
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.bos_token_id", GgufValue.u32(
                100_000)), "tokenizer.ggml.bos_token_id");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.eos_token_id", GgufValue.string(
                "2")), "tokenizer.ggml.eos_token_id");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.add_bos_token", GgufValue.string(
                "yes")), "tokenizer.ggml.add_bos_token");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("tokenizer.ggml.model", GgufValue.u32(1)),
                "tokenizer.ggml.model");
    }

    @Test
    void configValuesOfTheWrongTypeOrNotFinite() {
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("general.architecture", GgufValue.u32(1)),
                "general.architecture");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("llama.rope.freq_base", GgufValue.f32(Float.NaN)),
                "llama.rope.freq_base");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("llama.attention.layer_norm_rms_epsilon",
                GgufValue.string("1e-5")), "llama.attention.layer_norm_rms_epsilon");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("llama.attention.layer_norm_rms_epsilon",
                GgufValue.f32(Float.POSITIVE_INFINITY)), "llama.attention.layer_norm_rms_epsilon");
        refused(SmallModels.sentencePiece(), m -> m.metadata().put("llama.vocab_size", GgufValue.u32(7)),
                "llama.vocab_size");
    }

    @Test
    void nonFiniteLogitsNameThePositionAndTheToken() {
        float[] inf = {0f, 1f, Float.NEGATIVE_INFINITY};
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> NonFiniteValues.inLogits(inf, 9));
        assertTrue(e.getMessage().contains("position 9") && e.getMessage().contains("token 2 of 3 is -Infinity"),
                e.getMessage());
        NonFiniteValues.inLogits(new float[] {0f, -3f, 7f}, 0);
    }
}
