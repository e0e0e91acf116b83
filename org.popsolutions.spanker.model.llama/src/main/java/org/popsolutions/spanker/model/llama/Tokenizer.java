package org.popsolutions.spanker.model.llama;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufArray;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

/** Text to token ids and back, as the model's GGUF metadata describes ({@code tokenizer.ggml.*}). */
public interface Tokenizer {
    /** token_type values of GGUF (llama.cpp's LLAMA_TOKEN_TYPE_*). */
    int NORMAL = 1;
    int UNKNOWN = 2;
    int CONTROL = 3;
    int USER_DEFINED = 4;
    int UNUSED = 5;
    int BYTE = 6;

    int[] encode(String text, boolean addBos);

    /**
     * As {@link #encode}, but the control and user-defined tokens spelled in the text (a chat template writes
     * {@code <|im_start|>} or {@code </s>}) become those tokens, longest first, as llama.cpp does with
     * {@code parse_special}; the text between them is encoded as usual.
     */
    default int[] encodeWithSpecialTokens(String text, boolean addBos) {
        return encode(text, addBos);
    }

    /** How the vocabulary spells token {@code id} ({@code <s>}, {@code <|im_end|>}); "" for −1 (no such token). */
    default String tokenText(int id) {
        return id < 0 ? "" : decode(List.of(id));
    }

    /** The text of the tokens; control tokens (BOS, EOS, …) produce nothing, bad UTF-8 becomes U+FFFD. */
    String decode(List<Integer> tokens);

    int vocabularySize();

    int bosToken();

    int eosToken();

    /** Whether prompts start with BOS (tokenizer.ggml.add_bos_token, default true). */
    boolean addsBos();

    /**
     * {@code llama}: SentencePiece-style pieces with scores and byte fallback; {@code gpt2}: byte-level BPE with
     * merges (GPT-2, Llama 3). The metadata is checked as strictly as the tensor table: every key of the wrong type,
     * an array of the wrong length, a token id outside the vocabulary is an {@link InvalidModelException} naming the
     * key.
     */
    static Tokenizer of(GgufFile file) {
        String model = LlamaConfig.string(file, "tokenizer.ggml.model")
                .orElseThrow(() -> new InvalidModelException("the model has no tokenizer (tokenizer.ggml.model)"));
        return switch (model) {
            case "llama" -> SentencePieceTokenizer.of(file);
            case "gpt2" -> BytePairTokenizer.of(file);
            default -> throw new InvalidModelException("tokenizer '" + model + "' is not supported; expected llama"
                    + " (SentencePiece) or gpt2 (byte-level BPE)");
        };
    }

    /** The pieces, one per row of token_embd.weight (the logits index them). */
    static String[] tokens(GgufFile file) {
        String[] tokens = array(file, "tokenizer.ggml.tokens", GgufValueType.STRING).map(GgufArray::strings)
                .orElseThrow(() -> new InvalidModelException("the model has no tokenizer.ggml.tokens"));
        long vocabulary = file.tensor("token_embd.weight").map(t -> t.rows()).orElse((long) tokens.length);
        if (tokens.length == 0 || tokens.length != vocabulary) {
            throw new InvalidModelException("tokenizer.ggml.tokens has " + tokens.length + " tokens but the model's"
                    + " vocabulary (rows of token_embd.weight) is " + vocabulary);
        }
        return tokens;
    }

    /** An array metadata value whose elements are all of {@code elements} type (any integer type for INT32). */
    static Optional<GgufArray> array(GgufFile file, String key, GgufValueType elements) {
        return file.value(key).map(v -> {
            GgufArray a = v.type() == GgufValueType.ARRAY ? v.asArray() : null;
            boolean integers = elements == GgufValueType.INT32 && a != null && a.elementType().isInteger();
            if (a == null || a.elementType() != elements && !integers) {
                throw new InvalidModelException("model metadata " + key + " should be an array of "
                        + elements.name().toLowerCase(Locale.ROOT) + ", found " + (a == null ? v.type() : a));
            }
            return a;
        });
    }

    /** One value per token, 0..6 (llama.cpp's LLAMA_TOKEN_TYPE_*); NORMAL for all when the key is absent. */
    static int[] tokenTypes(GgufFile file, int count) {
        int[] types = new int[count];
        java.util.Arrays.fill(types, NORMAL);
        array(file, "tokenizer.ggml.token_type", GgufValueType.INT32).ifPresent(a -> {
            if (a.size() != count) {
                throw new InvalidModelException("tokenizer.ggml.token_type has " + a.size() + " values for " + count
                        + " tokens");
            }
            for (int i = 0; i < count; i++) {
                long type = a.longAt(i);
                if (type < 0 || type > BYTE) {
                    throw new InvalidModelException("tokenizer.ggml.token_type of token " + i + " is " + type
                            + "; expected 0.." + BYTE);
                }
                types[i] = (int) type;
            }
        });
        return types;
    }

    /** A token id within the vocabulary, or −1 for none (stored as −1 or as uint32 0xFFFFFFFF). */
    static int id(GgufFile file, String key, int fallback, int vocabulary) {
        return file.value(key).map(v -> {
            if (!v.isInteger()) {
                throw new InvalidModelException("model metadata " + key + " should be an integer token id, found "
                        + v.type());
            }
            long id = v.asLong();
            if (id == -1 || id == 0xffffffffL) {
                return -1;
            }
            if (id < 0 || id >= vocabulary) {
                throw new InvalidModelException("model metadata " + key + " = " + id + " is outside the vocabulary"
                        + " 0.." + (vocabulary - 1));
            }
            return (int) id;
        }).orElse(fallback < vocabulary ? fallback : -1);
    }

    static boolean flag(GgufFile file, String key, boolean fallback) {
        return file.value(key).map(v -> {
            if (v.type() != GgufValueType.BOOL) {
                throw new InvalidModelException("model metadata " + key + " should be a bool, found " + v.type());
            }
            return v.asLong() != 0;
        }).orElse(fallback);
    }
}
