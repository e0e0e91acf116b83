package org.popsolutions.spanker.serve.openai;

import java.util.List;

/**
 * How chat messages become one prompt. GGUF chat templates are Jinja programs this endpoint does not run; the
 * layout is the plain one, every message as {@code role: content} on its own line, then {@code assistant:} for
 * the model to continue.
 */
final class ChatTemplate {
    static final List<String> ROLES = List.of("system", "user", "assistant");

    record Message(String role, String content) {
    }

    private ChatTemplate() {
    }

    static String layout(List<Message> messages) {
        StringBuilder prompt = new StringBuilder();
        for (Message m : messages) {
            prompt.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        return prompt.append("assistant:").toString();
    }
}
