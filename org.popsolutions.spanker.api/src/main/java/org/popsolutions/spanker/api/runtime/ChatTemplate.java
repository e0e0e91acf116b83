package org.popsolutions.spanker.api.runtime;

/**
 * A model's chat template: the Jinja program its GGUF file carries as {@code tokenizer.chat_template}, with the texts
 * the template knows as {@code bos_token} and {@code eos_token} (the vocabulary's spelling of those tokens, "" when
 * the model has none).
 */
public record ChatTemplate(String source, String bosToken, String eosToken) {
    public ChatTemplate {
        if (source == null || bosToken == null || eosToken == null) {
            throw new IllegalArgumentException("a chat template needs its source and token texts (\"\" for none)");
        }
    }
}
