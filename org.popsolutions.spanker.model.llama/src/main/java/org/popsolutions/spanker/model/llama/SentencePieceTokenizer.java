package org.popsolutions.spanker.model.llama;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.regex.Pattern;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/**
 * SentencePiece-style tokenization as llama.cpp does for {@code tokenizer.ggml.model = llama}: a space is prepended,
 * spaces become ▁ (U+2581), the text starts as one symbol per character, and the adjacent pair whose concatenation is
 * the highest-scoring piece is merged (leftmost on ties) until no pair is a piece. A symbol that is not a piece is
 * spelled with its UTF-8 bytes as {@code <0xXX>} tokens (byte fallback), or {@code <unk>} without them.
 */
final class SentencePieceTokenizer extends PieceTokenizer {
    private static final String SPACE = "\u2581";
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    private final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int[] byteTokens = new int[256];
    private final int unk;
    private final boolean addSpacePrefix;

    SentencePieceTokenizer(String[] pieces, float[] scores, int[] types, int bos, int eos, int unk, boolean addBos,
            boolean addSpacePrefix) {
        super(pieces, types, bos, eos, addBos);
        this.scores = scores;
        this.unk = unk;
        this.addSpacePrefix = addSpacePrefix;
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(pieces[i], i);
        }
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = ids.getOrDefault(String.format(Locale.ROOT, "<0x%02X>", b), -1);
        }
    }

    static SentencePieceTokenizer of(GgufFile file) {
        String[] tokens = Tokenizer.tokens(file);
        float[] scores = Tokenizer.array(file, "tokenizer.ggml.scores", GgufValueType.FLOAT32).map(a -> a.floats())
                .orElse(new float[tokens.length]);
        if (scores.length != tokens.length) {
            throw new InvalidModelException("tokenizer.ggml.scores has " + scores.length + " values for "
                    + tokens.length + " tokens");
        }
        int[] types = Tokenizer.tokenTypes(file, tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (types[i] == BYTE && !BYTE_PIECE.matcher(tokens[i]).matches()) {
                throw new InvalidModelException("tokenizer.ggml.token_type marks token " + i + " as a byte token,"
                        + " but its piece is not <0xXX>");
            }
        }
        int vocabulary = tokens.length;
        return new SentencePieceTokenizer(tokens, scores, types,
                Tokenizer.id(file, "tokenizer.ggml.bos_token_id", 1, vocabulary),
                Tokenizer.id(file, "tokenizer.ggml.eos_token_id", 2, vocabulary),
                Tokenizer.id(file, "tokenizer.ggml.unknown_token_id", 0, vocabulary),
                Tokenizer.flag(file, "tokenizer.ggml.add_bos_token", true),
                Tokenizer.flag(file, "tokenizer.ggml.add_space_prefix", true));
    }

    private record Bigram(int left, int right, float score, int length) {
    }

    @Override
    void encodeText(String text, boolean afterSpecial, List<Integer> out) {
        if (!text.isEmpty()) {
            String s = ((addSpacePrefix && afterSpecial ? " " : "") + text).replace(" ", SPACE);
            // symbols as a linked list over code points
            List<String> symbols = new ArrayList<>();
            s.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
            int n = symbols.size();
            String[] text2 = symbols.toArray(new String[0]);
            int[] prev = new int[n];
            int[] next = new int[n];
            for (int i = 0; i < n; i++) {
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                    ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
            for (int i = 0; i + 1 < n; i++) {
                offer(queue, text2, i, i + 1);
            }
            while (!queue.isEmpty()) {
                Bigram b = queue.poll();
                if (text2[b.left] == null || text2[b.right] == null || next[b.left] != b.right
                        || text2[b.left].length() + text2[b.right].length() != b.length) {
                    continue;
                }
                text2[b.left] = text2[b.left] + text2[b.right];
                text2[b.right] = null;
                next[b.left] = next[b.right];
                if (next[b.right] >= 0) {
                    prev[next[b.right]] = b.left;
                }
                if (prev[b.left] >= 0) {
                    offer(queue, text2, prev[b.left], b.left);
                }
                if (next[b.left] >= 0) {
                    offer(queue, text2, b.left, next[b.left]);
                }
            }
            for (int i = 0; i >= 0 && i < n; i = next[i]) {
                Integer id = ids.get(text2[i]);
                if (id != null) {
                    out.add(id);
                    continue;
                }
                for (byte b : text2[i].getBytes(StandardCharsets.UTF_8)) {
                    int t = byteTokens[b & 0xff] >= 0 ? byteTokens[b & 0xff] : unk;
                    if (t < 0) {
                        throw new InvalidModelException(String.format(Locale.ROOT, "the vocabulary has neither the"
                                + " byte token <0x%02X> nor an unknown token (tokenizer.ggml.unknown_token_id)", b));
                    }
                    out.add(t);
                }
            }
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String[] symbols, int left, int right) {
        String joined = symbols[left] + symbols[right];
        Integer id = ids.get(joined);
        if (id != null) {
            queue.add(new Bigram(left, right, scores[id], joined.length()));
        }
    }

    @Override
    void appendBytes(int token, ByteArrayOutputStream bytes) {
        switch (types[token]) {
            case CONTROL, UNKNOWN, UNUSED -> {
            }
            case BYTE -> bytes.write(Integer.parseInt(pieces[token].substring(3, 5), 16));
            default -> bytes.writeBytes(pieces[token].replace(SPACE, " ").getBytes(StandardCharsets.UTF_8));
        }
    }
}
