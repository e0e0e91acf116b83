package org.popsolutions.spanker.model.llama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;
import org.popsolutions.spanker.ggml.gguf.GgufWriter;
import org.popsolutions.spanker.ggml.gguf.GoldenModels;

class TokenizerTest {
    static List<Integer> list(int[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }

    /** <unk> <s> </s>, 256 byte tokens, then the given pieces (scores: their order, best first). */
    static SentencePieceTokenizer spm(String... pieces) {
        List<String> all = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            all.add(String.format(Locale.ROOT, "<0x%02X>", b));
        }
        all.addAll(List.of(pieces));
        float[] scores = new float[all.size()];
        int[] types = new int[all.size()];
        for (int i = 0; i < all.size(); i++) {
            types[i] = i == 0 ? Tokenizer.UNKNOWN : i < 3 ? Tokenizer.CONTROL : i < 259 ? Tokenizer.BYTE
                    : Tokenizer.NORMAL;
            scores[i] = i < 259 ? 0 : -(i - 259);
        }
        return new SentencePieceTokenizer(all.toArray(String[]::new), scores, types, 1, 2, 0, true, true);
    }

    @Test
    void sentencePieceMergesTheBestScoringPairFirst() {
        // ▁ab scores below ab, which scores below ▁a: "▁" + "a" merge first, then ▁a + b = "▁ab"
        SentencePieceTokenizer t = spm("▁a", "ab", "▁ab", "▁", "a", "b");
        int first = 259;
        assertEquals(List.of(1, first + 2), list(t.encode("ab", true)));
        // without ▁ab the best pair ▁a wins and b stays alone
        SentencePieceTokenizer u = spm("▁a", "ab", "▁", "a", "b");
        assertEquals(List.of(first, first + 4), list(u.encode("ab", false)));
        // ties go to the leftmost pair: "aaa" → "aa" + "a"
        SentencePieceTokenizer v = spm("aa", "a", "▁");
        assertEquals(List.of(first + 2, first, first + 1), list(v.encode("aaa", false)));
        assertEquals(" aaa", v.decode(list(v.encode("aaa", true))));
    }

    @Test
    void specialTokensSpelledInTheTextBecomeThoseTokensLongestFirst() {
        // "<|im|>" is a user-defined token, "<|im|>x" a longer one that must win where it occurs
        List<String> pieces = new ArrayList<>(List.of("▁", "a", "b", "▁a", "<|im|>", "<|im|>x"));
        SentencePieceTokenizer plain = spm(pieces.toArray(String[]::new));
        String[] all = new String[plain.vocabularySize()];
        int[] types = new int[all.length];
        float[] scores = new float[all.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = plain.tokenText(i);
            types[i] = plain.types[i];
            scores[i] = -i;
        }
        int first = 259;
        types[first + 4] = Tokenizer.USER_DEFINED;
        types[first + 5] = Tokenizer.USER_DEFINED;
        SentencePieceTokenizer t = new SentencePieceTokenizer(all, scores, types, 1, 2, 0, true, true);
        // BOS, "▁a" (space prefix at the start), </s>, then "▁b" (a space again after a special token), <|im|>x, <|im|>
        assertEquals(List.of(1, first + 3, 2, first, first + 2, first + 5, first + 4),
                list(t.encodeWithSpecialTokens("a</s>b<|im|>x<|im|>", true)));
        // the plain encoding spells them with pieces and bytes
        assertTrue(!list(t.encode("a</s>", false)).contains(2));
        assertEquals("</s>", t.tokenText(2));
        assertEquals("", t.tokenText(-1));
    }

    @Test
    void sentencePieceFallsBackToBytes() {
        SentencePieceTokenizer t = spm("▁", "a");
        int[] ids = t.encode("aé", false);
        // ▁, a, then é as its two UTF-8 bytes C3 A9
        assertEquals(List.of(259, 260, 3 + 0xC3, 3 + 0xA9), list(ids));
        assertEquals(" aé", t.decode(list(ids)));
        assertEquals("", t.decode(List.of(1, 2)));
    }

    @Test
    void goldenVocabularyRoundTrips() {
        GgufFile file = GgufReader.open(GoldenModels.model("tiny-llama-q8_0.gguf"));
        Tokenizer t = Tokenizer.of(file);
        assertEquals(512, t.vocabularySize());
        assertTrue(t.addsBos());
        for (String text : List.of("Hello world", "the quick brown fox", "naïve café 東京 🙂", "a\nb\tc  d")) {
            int[] ids = t.encode(text, true);
            assertEquals(1, ids[0]);
            assertEquals(" " + text, t.decode(list(ids)), text);
        }
        assertTrue(t.encode("the the the", false).length < "the the the".length() + 1, "pieces longer than bytes");
    }

    /** GPT-2 style: 256 byte characters as tokens, then merges. */
    static BytePairTokenizer bpe(List<String> merges, java.util.regex.Pattern pattern) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(BytePairTokenizer.class.getName().isEmpty() ? "" : byteChar(b));
        }
        for (String m : merges) {
            tokens.add(m.replace(" ", ""));
        }
        tokens.add("<|end|>");
        int[] types = new int[tokens.size()];
        Arrays.fill(types, Tokenizer.NORMAL);
        types[types.length - 1] = Tokenizer.CONTROL;
        return new BytePairTokenizer(tokens.toArray(String[]::new), types, merges.toArray(String[]::new), pattern,
                types.length - 1, types.length - 1, false);
    }

    static String byteChar(int b) {
        int extra = 0;
        for (int i = 0; i < b; i++) {
            boolean printable = i >= '!' && i <= '~' || i >= 0xA1 && i <= 0xAC || i >= 0xAE && i <= 0xFF;
            extra += printable ? 0 : 1;
        }
        boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
        return String.valueOf((char) (printable ? b : 256 + extra));
    }

    @Test
    void bytePairEncodingFollowsMergeRanks() {
        // Ġ is the space byte (0x20 → U+0120)
        BytePairTokenizer t = bpe(List.of("h e", "Ġ t", "Ġt he", "c a", "ca t"), BytePairTokenizer.GPT2);
        int he = 256;
        int spaceT = 257;
        int spaceThe = 258;
        int ca = 259;
        int cat = 260;
        assertEquals(List.of((int) 't', he, spaceThe, 0x20, cat), list(t.encode("the the cat", false)));
        assertNotEquals(spaceT, spaceThe);
        assertEquals("the the cat", t.decode(list(t.encode("the the cat", false))));
        assertEquals(List.of(ca), list(t.encode("ca", false)));
        // bytes outside ASCII, and a control token that decodes to nothing
        String text = "é 東京\n";
        int[] ids = t.encode(text, true);
        assertEquals(261, ids[0]);
        assertEquals(text, t.decode(list(ids)));
    }

    @Test
    void llama3PatternSplitsDigitsByThreesAndKeepsContractions() {
        java.util.regex.Matcher m = BytePairTokenizer.LLAMA3.matcher("I'LL pay 12345 now!\n\n");
        List<String> pieces = new ArrayList<>();
        while (m.find()) {
            pieces.add(m.group());
        }
        assertEquals(List.of("I", "'LL", " pay", " ", "123", "45", " now", "!\n\n"), pieces);
    }

    @Test
    void tokenizerFromGgufMetadata() {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        w.put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"));
        String[] tokens = new String[258];
        for (int b = 0; b < 256; b++) {
            tokens[b] = byteChar(b);
        }
        tokens[256] = "hi";
        tokens[257] = "<|begin_of_text|>";
        int[] types = new int[258];
        Arrays.fill(types, 1);
        types[257] = 3;
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, new String[] {"h i"}));
        w.put("tokenizer.ggml.bos_token_id", GgufValue.u32(257));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        Tokenizer t = Tokenizer.of(GgufReader.read(w.toBytes()));
        assertTrue(t.addsBos());
        assertArrayEquals(new int[] {257, 256, ' ', 256}, t.encode("hi hi", true));
        assertEquals("hi hi", t.decode(list(t.encode("hi hi", true))));

        GgufWriter bad = new GgufWriter().put("tokenizer.ggml.model", GgufValue.string("bert"));
        InvalidModelException e = assertThrows(InvalidModelException.class,
                () -> Tokenizer.of(GgufReader.read(bad.toBytes())));
        assertTrue(e.getMessage().contains("bert"), e.getMessage());
    }

    @Test
    void samplingIsSeededAndRespectsItsLimits() {
        float[] logits = {1f, 3f, 2f, 3f, -1f};
        assertEquals(1, Sampler.greedy().sample(logits), "first of the tied maxima");
        assertEquals(1, new Sampler(0.8f, 1, 1f, 5).sample(logits), "top-k 1 is greedy");
        Sampler a = new Sampler(1f, 0, 1f, 42);
        Sampler b = new Sampler(1f, 0, 1f, 42);
        int[] counts = new int[logits.length];
        for (int i = 0; i < 4000; i++) {
            int x = a.sample(logits);
            assertEquals(x, b.sample(logits), "same seed, same draws");
            counts[x]++;
        }
        // softmax of the logits: 0.0551, 0.4071, 0.1498, 0.4071, 0.0075 (±5 standard deviations)
        double[] expected = {0.0551, 0.4071, 0.1498, 0.4071, 0.0075};
        for (int i = 0; i < logits.length; i++) {
            double sd = Math.sqrt(4000 * expected[i] * (1 - expected[i]));
            assertEquals(4000 * expected[i], counts[i], 5 * sd, "token " + i);
        }
        Sampler topK = new Sampler(1f, 2, 1f, 1);
        Sampler topP = new Sampler(1f, 0, 0.5f, 1);
        for (int i = 0; i < 200; i++) {
            int k = topK.sample(logits);
            assertTrue(k == 1 || k == 3, "top-k 2 keeps the two best, got " + k);
            int p = topP.sample(logits);
            assertTrue(p == 1 || p == 3, "top-p 0.5 keeps 1 and 3 (0.41 + 0.41), got " + p);
        }
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1, 0, 0, 0));
    }
}
