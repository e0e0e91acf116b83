package org.popsolutions.spanker.serve.openai;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.runtime.ChatTemplate;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.serve.jinja.JinjaTemplate;
import org.popsolutions.spanker.serve.jinja.TemplateError;

/**
 * How chat messages become one prompt: the model's own chat template (GGUF {@code tokenizer.chat_template}, a Jinja
 * program) run as llama.cpp's server runs it ({@code messages}, {@code add_generation_prompt = true},
 * {@code bos_token}, {@code eos_token}, {@code raise_exception}), its output tokenized with the special tokens it
 * spells; only a model without a template gets the plain layout, every message as {@code role: content} on its own
 * line, then {@code assistant:}.
 */
final class ChatLayout {
    static final List<String> ROLES = List.of("system", "user", "assistant");
    static final String PLAIN = "plain (the model has no tokenizer.chat_template): role: content lines, then"
            + " assistant:";

    record Message(String role, String content) {
    }

    private final LoadedModel model;
    private final ChatTemplate template;
    private final JinjaTemplate compiled;
    private final String compileError;

    ChatLayout(LoadedModel model) {
        this.model = model;
        this.template = model.chatTemplate().orElse(null);
        JinjaTemplate program = null;
        String error = null;
        if (template != null) {
            try {
                program = JinjaTemplate.compile(template.source());
            } catch (TemplateError e) {
                error = e.getMessage();
            }
        }
        this.compiled = program;
        this.compileError = error;
    }

    /** For /v1/models and the console: which layout chat requests get. */
    String description() {
        if (template == null) {
            return PLAIN;
        }
        return compileError == null ? "the model's tokenizer.chat_template"
                : "none: the model's tokenizer.chat_template does not parse (" + compileError + ")";
    }

    /** The prompt's token ids; a template that refuses the messages is a 400, one that fails a 500. */
    int[] prompt(List<Message> messages) {
        if (template == null) {
            return model.tokenize(plain(messages));
        }
        if (compiled == null) {
            throw new BadRequest(500, "server_error", null, "the model's chat template (tokenizer.chat_template)"
                    + " does not parse: " + compileError + "; /v1/completions with a prompt still works");
        }
        return model.tokenizeChat(render(messages));
    }

    String render(List<Message> messages) {
        List<Object> list = new ArrayList<>();
        for (Message m : messages) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.content());
            list.add(message);
        }
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", list);
        variables.put("add_generation_prompt", true);
        variables.put("bos_token", template.bosToken());
        variables.put("eos_token", template.eosToken());
        try {
            return compiled.render(variables);
        } catch (TemplateError e) {
            if (e.raisedByTemplate()) {
                throw BadRequest.invalid("messages", "the model's chat template refused the messages: "
                        + e.getMessage());
            }
            throw new BadRequest(500, "server_error", null, "the model's chat template failed: " + e.getMessage());
        }
    }

    static String plain(List<Message> messages) {
        StringBuilder prompt = new StringBuilder();
        for (Message m : messages) {
            prompt.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        return prompt.append("assistant:").toString();
    }
}
