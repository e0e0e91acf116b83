package org.popsolutions.spanker.model.llama;

import java.util.List;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufValue;

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

    /** The text of the tokens; control tokens (BOS, EOS, …) produce nothing, bad UTF-8 becomes U+FFFD. */
    String decode(List<Integer> tokens);

    int vocabularySize();

    int bosToken();

    int eosToken();

    /** Whether prompts start with BOS (tokenizer.ggml.add_bos_token, default true). */
    boolean addsBos();

    /**
     * {@code llama}: SentencePiece-style pieces with scores and byte fallback; {@code gpt2}: byte-level BPE with
     * merges (GPT-2, Llama 3).
     */
    static Tokenizer of(GgufFile file) {
        String model = file.value("tokenizer.ggml.model").map(GgufValue::asString)
                .orElseThrow(() -> new InvalidModelException("the model has no tokenizer (tokenizer.ggml.model)"));
        return switch (model) {
            case "llama" -> SentencePieceTokenizer.of(file);
            case "gpt2" -> BytePairTokenizer.of(file);
            default -> throw new InvalidModelException("tokenizer '" + model + "' is not supported; expected llama"
                    + " (SentencePiece) or gpt2 (byte-level BPE)");
        };
    }

    static String[] tokens(GgufFile file) {
        return file.value("tokenizer.ggml.tokens").map(v -> v.asArray().strings())
                .orElseThrow(() -> new InvalidModelException("the model has no tokenizer.ggml.tokens"));
    }

    static int[] tokenTypes(GgufFile file, int count) {
        int[] types = new int[count];
        java.util.Arrays.fill(types, NORMAL);
        file.value("tokenizer.ggml.token_type").ifPresent(v -> {
            var a = v.asArray();
            for (int i = 0; i < Math.min(count, a.size()); i++) {
                types[i] = (int) a.longAt(i);
            }
        });
        return types;
    }

    static int id(GgufFile file, String key, int fallback) {
        return file.value(key).map(v -> (int) v.asLong()).orElse(fallback);
    }

    static boolean flag(GgufFile file, String key, boolean fallback) {
        return file.value(key).map(v -> v.asLong() != 0).orElse(fallback);
    }
}
