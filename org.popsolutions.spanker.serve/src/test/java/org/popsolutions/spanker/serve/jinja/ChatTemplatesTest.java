package org.popsolutions.spanker.serve.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Published chat templates (the {@code chat_template} of the models' tokenizer_config.json, as their GGUF files
 * carry them in {@code tokenizer.chat_template}) render the prompts their model cards show, character for character.
 */
class ChatTemplatesTest {
    /** TinyLlama-1.1B-Chat-v1.0 and zephyr-7b-beta (one template). */
    static final String ZEPHYR = "{% for message in messages %}\n"
            + "{% if message['role'] == 'user' %}\n"
            + "{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
            + "{% elif message['role'] == 'system' %}\n"
            + "{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
            + "{% elif message['role'] == 'assistant' %}\n"
            + "{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n"
            + "{% endif %}\n"
            + "{% if loop.last and add_generation_prompt %}\n"
            + "{{ '<|assistant|>' }}\n"
            + "{% endif %}\n"
            + "{% endfor %}";

    /** Llama-2-7b-chat-hf. */
    static final String LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
            + "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
            + "{% if loop.index0 == 0 and system_message != false %}"
            + "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
            + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
            + "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
            + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    /** ChatML (OpenHermes, Qwen, SmolLM and others). */
    static final String CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /** Meta-Llama-3-8B-Instruct: a filter binds tighter than +. */
    static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
            + "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
            + "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    static String render(String template, String bos, String eos, Map<String, Object>... messages) {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("messages", new ArrayList<>(List.of(messages)));
        vars.put("add_generation_prompt", true);
        vars.put("bos_token", bos);
        vars.put("eos_token", eos);
        return JinjaTemplate.compile(template).render(vars);
    }

    @Test
    void tinyLlamaAndZephyrAsTheModelCardShowsIt() {
        assertEquals("<|system|>\nYou are a friendly chatbot who always responds in the style of a pirate</s>\n"
                + "<|user|>\nHow many helicopters can a human eat in one sitting?</s>\n<|assistant|>\n",
                render(ZEPHYR, "<s>", "</s>",
                        message("system", "You are a friendly chatbot who always responds in the style of a pirate"),
                        message("user", "How many helicopters can a human eat in one sitting?")));
    }

    @Test
    void llama2WrapsTheSystemPromptIntoTheFirstInstruction() {
        assertEquals("<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Who are you? [/INST]",
                render(LLAMA2, "<s>", "</s>", message("system", "Be brief."), message("user", "Hi"),
                        message("assistant", " Hello!\n"), message("user", "Who are you?")));
        assertEquals("<s>[INST] Hi [/INST]", render(LLAMA2, "<s>", "</s>", message("user", "  Hi ")));
    }

    @Test
    void llama2RefusesRolesThatDoNotAlternate() {
        TemplateError e = assertThrows(TemplateError.class, () -> render(LLAMA2, "<s>", "</s>",
                message("user", "a"), message("user", "b")));
        assertTrue(e.raisedByTemplate());
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getMessage());
    }

    @Test
    void chatMl() {
        assertEquals("<|im_start|>system\nYou are Hermes.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\n", render(CHATML, "", "<|im_end|>", message("system", "You are Hermes."),
                        message("user", "Hello")));
    }

    @Test
    void llama3TrimsEachMessage() {
        assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", render(LLAMA3, "<|begin_of_text|>",
                        "<|eot_id|>", message("user", "\n What is 2+2?  ")));
    }

    @Test
    void whitespaceControlLoopVariablesAndNamespaces() {
        String t = "{%- set ns = namespace(found=false, n=0) -%}\n"
                + "  {%- for m in messages if m.role != 'system' %}\n"
                + "    {%- set ns.n = ns.n + 1 %}\n"
                + "    {%- if m.content is string and 'x' in m.content %}{% set ns.found = true %}{% endif %}\n"
                + "{{ loop.index }}/{{ loop.length }}:{{ m['content'][::-1] | upper }}{{ ',' if not loop.last }}\n"
                + "  {%- endfor %}\n"
                + "{{ ns.n }} {{ ns.found }} {{ messages | length }} {{ messages[-1].role }} {{ (messages | first).role }}"
                + " {{ messages | map(attribute='role') | join('+') }} {{ undefined_name is defined }}"
                + " {{ {'a': [1, 2.5, none, true, 'é']} | tojson }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 'ab' ~ 3 }}";
        // "{%-" takes the newline and indent before it, trim_blocks the newline after "%}"
        assertEquals("1/2:BA,2/2:YX2 True 3 user system system+user+user False"
                + " {\"a\": [1, 2.5, null, true, \"é\"]} 3 3.5 ab3",
                render(t, "", "", message("system", "s"), message("user", "ab"), message("user", "xy")));
    }

    @Test
    void lstripBlocksAndTrimBlocksAsHuggingFaceRendersThem() {
        String t = "A\n    {% if true %}\n    B\n    {% endif %}\nC {# note #}\nD\n  {{ 'E' }}\n";
        assertEquals("A\n    B\nC D\n  E\n", render(t, "", ""));
    }

    @Test
    void templatesThatDoNotParseNameTheLine() {
        TemplateError unclosed = assertThrows(TemplateError.class, () -> JinjaTemplate.compile(
                "{% for m in messages %}\n{% if m %}x{% endfor %}"));
        assertTrue(unclosed.getMessage().contains("endfor") || unclosed.getMessage().contains("endif"),
                unclosed.getMessage());
        TemplateError macro = assertThrows(TemplateError.class, () -> JinjaTemplate.compile(
                "x\n{% macro f() %}{% endmacro %}"));
        assertEquals("line 2: the tag 'macro' is not supported by this chat template engine (it runs if, for,"
                + " set, break, continue, generation)", macro.getMessage());
        assertThrows(TemplateError.class, () -> JinjaTemplate.compile("{{ 'never closed }}"));
        assertThrows(TemplateError.class, () -> JinjaTemplate.compile("{{ a + }}"));
        assertThrows(TemplateError.class, () -> JinjaTemplate.compile("{% endif %}"));
        assertThrows(TemplateError.class, () -> JinjaTemplate.compile("{{ x"));
    }

    @Test
    void templatesThatFailWhileRenderingSaySoWithoutBeingRefusals() {
        TemplateError filter = assertThrows(TemplateError.class, () -> render("\n{{ messages | shuffle }}", "", "",
                message("user", "a")));
        assertEquals("line 2: unknown filter 'shuffle'", filter.getMessage());
        assertFalse(filter.raisedByTemplate());
        TemplateError undefined = assertThrows(TemplateError.class, () -> render("{{ tools.x }}", "", ""));
        assertEquals("'tools' is undefined (asked for its attribute 'x')", undefined.getMessage());
        TemplateError types = assertThrows(TemplateError.class, () -> render("{{ 'a' + 1 }}", "", ""));
        assertEquals("unsupported operand types for +: str and int", types.getMessage());
    }
}
