package org.popsolutions.spanker.model.llama;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}): the text is split by the pre-tokenizer's pattern (Llama 3's
 * for {@code tokenizer.ggml.pre = llama-bpe}, GPT-2's otherwise), each piece's UTF-8 bytes are mapped to printable
 * characters as GPT-2 does, and the pair of lowest merge rank is merged until none is left.
 */
final class BytePairTokenizer extends PieceTokenizer {
    static final Pattern GPT2 = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
    static final Pattern LLAMA3 = Pattern.compile("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        // GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the others to U+0100 onwards
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF;
            BYTE_TO_CHAR[b] = (char) (printable ? b : 256 + extra++);
            CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
        }
    }

    private final Map<String, Integer> ids = new HashMap<>();
    private final Map<String, Integer> ranks = new HashMap<>();
    private final Pattern pattern;

    BytePairTokenizer(String[] tokens, int[] types, String[] merges, Pattern pattern, int bos, int eos,
            boolean addBos) {
        super(tokens, types, bos, eos, addBos);
        this.pattern = pattern;
        for (int i = 0; i < tokens.length; i++) {
            ids.putIfAbsent(tokens[i], i);
        }
        for (int i = 0; i < merges.length; i++) {
            ranks.putIfAbsent(merges[i], i);
        }
    }

    static BytePairTokenizer of(GgufFile file) {
        String[] tokens = Tokenizer.tokens(file);
        String[] merges = Tokenizer.array(file, "tokenizer.ggml.merges", GgufValueType.STRING).map(a -> a.strings())
                .orElseThrow(() -> new InvalidModelException("a gpt2 tokenizer needs tokenizer.ggml.merges"));
        String pre = LlamaConfig.string(file, "tokenizer.ggml.pre").orElse("default");
        Pattern pattern = pre.equals("llama-bpe") || pre.equals("llama3") ? LLAMA3 : GPT2;
        return new BytePairTokenizer(tokens, Tokenizer.tokenTypes(file, tokens.length), merges, pattern,
                Tokenizer.id(file, "tokenizer.ggml.bos_token_id", -1, tokens.length), Tokenizer.id(file,
                        "tokenizer.ggml.eos_token_id", -1, tokens.length), Tokenizer.flag(file,
                                "tokenizer.ggml.add_bos_token", false));
    }

    @Override
    void encodeText(String text, boolean afterSpecial, List<Integer> out) {
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            StringBuilder mapped = new StringBuilder();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                mapped.append(BYTE_TO_CHAR[b & 0xff]);
            }
            for (String symbol : merge(mapped.toString())) {
                Integer id = ids.get(symbol);
                if (id != null) {
                    out.add(id);
                } else {
                    for (char c : symbol.toCharArray()) {
                        Integer single = ids.get(String.valueOf(c));
                        if (single == null) {
                            throw new InvalidModelException("the BPE vocabulary lacks the byte token '" + c + "'");
                        }
                        out.add(single);
                    }
                }
            }
        }
    }

    private List<String> merge(String word) {
        List<String> symbols = new ArrayList<>();
        for (char c : word.toCharArray()) {
            symbols.add(String.valueOf(c));
        }
        while (symbols.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        return symbols;
    }

    @Override
    void appendBytes(int token, ByteArrayOutputStream bytes) {
        if (types[token] == CONTROL || types[token] == UNUSED) {
            return;
        }
        if (types[token] == USER_DEFINED) {
            bytes.writeBytes(pieces[token].getBytes(StandardCharsets.UTF_8));
            return;
        }
        for (char c : pieces[token].toCharArray()) {
            Integer b = CHAR_TO_BYTE.get(c);
            if (b != null) {
                bytes.write(b);
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
