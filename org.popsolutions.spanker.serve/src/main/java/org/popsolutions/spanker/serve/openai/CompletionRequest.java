package org.popsolutions.spanker.serve.openai;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.Sampling;

/**
 * A completion or chat completion request, checked field by field: every known field of the wrong type or out of
 * range is refused naming the field; fields this endpoint does not know are ignored (clients send many).
 *
 * @param prompt the token ids to feed (chat messages already laid out by the chat template)
 * @param maxTokens tokens to generate at most
 */
record CompletionRequest(boolean chat, int[] prompt, int maxTokens, Sampling sampling, boolean stream) {
    /** A request body larger than this is refused: prompts are text, not uploads. */
    static final int MAX_BODY_BYTES = 1 << 20;
    /** OpenAI's default for /v1/completions. */
    static final int DEFAULT_COMPLETION_TOKENS = 16;

    static JsonObject parse(InputStream body) throws IOException {
        byte[] bytes = body.readNBytes(MAX_BODY_BYTES + 1);
        if (bytes.length > MAX_BODY_BYTES) {
            throw new BadRequest(413, "invalid_request_error", null, "the request body is over " + MAX_BODY_BYTES
                    + " bytes");
        }
        if (bytes.length == 0) {
            throw BadRequest.invalid(null, "the request has no body; send a JSON object");
        }
        try (Reader text = new InputStreamReader(new java.io.ByteArrayInputStream(bytes), StandardCharsets.UTF_8);
                JsonReader reader = new JsonReader(text)) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement root = new Gson().getAdapter(JsonElement.class).read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw BadRequest.invalid(null, "the body holds more than one JSON value");
            }
            if (root == null || !root.isJsonObject()) {
                throw BadRequest.invalid(null, "the body must be a JSON object, got " + kind(root));
            }
            return root.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadRequest bad) {
                throw bad;
            }
            throw BadRequest.invalid(null, "the body is not valid JSON: " + e.getMessage());
        }
    }

    static CompletionRequest of(JsonObject body, boolean chat, LoadedModel model, String modelId, ChatLayout layout) {
        JsonElement name = body.get("model");
        if (name != null && !name.isJsonNull()) {
            String asked = string(body, "model");
            if (!asked.equals(modelId)) {
                throw new BadRequest(400, "invalid_request_error", "model", "model '" + asked
                        + "' is not served here; this endpoint serves '" + modelId + "' (GET /v1/models)");
            }
        }
        integerAtMost(body, "n", 1, 1, "only n = 1 (one choice) is supported");
        if (present(body, "stop")) {
            throw BadRequest.invalid("stop", "stop sequences are not supported; generation stops at the end of"
                    + " sequence token or max_tokens");
        }
        if (present(body, "logprobs") && !(body.get("logprobs").isJsonPrimitive()
                && body.get("logprobs").getAsJsonPrimitive().isBoolean() && !body.get("logprobs").getAsBoolean())) {
            throw BadRequest.invalid("logprobs", "logprobs are not supported");
        }
        int[] prompt = chat ? layout.prompt(messages(body)) : prompt(body, model);
        if (prompt.length == 0) {
            throw BadRequest.invalid(chat ? "messages" : "prompt", "the prompt has no token");
        }
        int context = model.contextLength();
        if (prompt.length > context) {
            throw BadRequest.invalid(chat ? "messages" : "prompt", "the prompt has " + prompt.length
                    + " tokens, more than the context of " + context + " tokens");
        }
        // the last generated token is not fed back, so it needs no room in the caches
        int room = context - prompt.length + 1;
        String maxName = chat && present(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int maxTokens;
        if (present(body, maxName)) {
            maxTokens = integer(body, maxName);
            if (maxTokens < 1) {
                throw BadRequest.invalid(maxName, maxName + " must be >= 1, got " + maxTokens);
            }
            if (maxTokens > room) {
                throw BadRequest.invalid(maxName, maxName + " " + maxTokens + " with " + prompt.length
                        + " prompt tokens exceeds the context of " + context + " tokens; at most " + room);
            }
        } else {
            maxTokens = chat ? room : Math.min(DEFAULT_COMPLETION_TOKENS, room);
        }
        double temperature = present(body, "temperature") ? number(body, "temperature") : 1.0;
        if (temperature < 0 || temperature > 2) {
            throw BadRequest.invalid("temperature", "temperature must be within 0..2, got " + temperature);
        }
        double topP = present(body, "top_p") ? number(body, "top_p") : 1.0;
        if (!(topP > 0 && topP <= 1)) {
            throw BadRequest.invalid("top_p", "top_p must be within (0, 1], got " + topP);
        }
        int topK = present(body, "top_k") ? integer(body, "top_k") : 0;
        if (topK < 0) {
            throw BadRequest.invalid("top_k", "top_k must be >= 0, got " + topK);
        }
        long seed = present(body, "seed") ? integer(body, "seed") : System.nanoTime();
        boolean stream = present(body, "stream") && bool(body, "stream");
        return new CompletionRequest(chat, prompt, maxTokens, new Sampling(temperature, topK, topP, seed), stream);
    }

    private static int[] prompt(JsonObject body, LoadedModel model) {
        JsonElement p = body.get("prompt");
        if (p == null || p.isJsonNull()) {
            throw BadRequest.invalid("prompt", "prompt is missing: give a string or an array of token ids");
        }
        if (p.isJsonPrimitive() && p.getAsJsonPrimitive().isString()) {
            return model.tokenize(p.getAsString());
        }
        if (p.isJsonArray()) {
            JsonArray a = p.getAsJsonArray();
            if (a.size() == 1 && a.get(0).isJsonPrimitive() && a.get(0).getAsJsonPrimitive().isString()) {
                return model.tokenize(a.get(0).getAsString());
            }
            int[] ids = new int[a.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonElement e = a.get(i);
                Integer id = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? whole(e.getAsBigDecimal())
                        : null;
                if (id == null || id < 0 || id >= model.vocabulary()) {
                    throw BadRequest.invalid("prompt", "prompt[" + i + "] must be a token id within 0.."
                            + (model.vocabulary() - 1) + " (or give one string), got " + e);
                }
                ids[i] = id;
            }
            return ids;
        }
        throw BadRequest.invalid("prompt", "prompt must be a string or an array of token ids, got " + kind(p));
    }

    private static List<ChatLayout.Message> messages(JsonObject body) {
        JsonElement m = body.get("messages");
        if (m == null || !m.isJsonArray() || m.getAsJsonArray().isEmpty()) {
            throw BadRequest.invalid("messages", "messages must be a non-empty array of {role, content}, got "
                    + kind(m));
        }
        List<ChatLayout.Message> out = new ArrayList<>();
        int i = 0;
        for (JsonElement e : m.getAsJsonArray()) {
            String at = "messages[" + i++ + "]";
            if (!e.isJsonObject()) {
                throw BadRequest.invalid("messages", at + " must be an object {role, content}, got " + kind(e));
            }
            JsonObject o = e.getAsJsonObject();
            JsonElement role = o.get("role");
            JsonElement content = o.get("content");
            if (role == null || !role.isJsonPrimitive() || !role.getAsJsonPrimitive().isString()
                    || !ChatLayout.ROLES.contains(role.getAsString())) {
                throw BadRequest.invalid("messages", at + ".role must be one of " + ChatLayout.ROLES + ", got "
                        + (role == null ? "nothing" : role));
            }
            if (content == null || !content.isJsonPrimitive() || !content.getAsJsonPrimitive().isString()) {
                throw BadRequest.invalid("messages", at + ".content must be a string, got " + kind(content));
            }
            out.add(new ChatLayout.Message(role.getAsString(), content.getAsString()));
        }
        return out;
    }

    private static boolean present(JsonObject body, String field) {
        return body.has(field) && !body.get(field).isJsonNull();
    }

    private static String string(JsonObject body, String field) {
        JsonElement e = body.get(field);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            return e.getAsString();
        }
        throw BadRequest.invalid(field, field + " must be a string, got " + kind(e));
    }

    private static boolean bool(JsonObject body, String field) {
        JsonElement e = body.get(field);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean();
        }
        throw BadRequest.invalid(field, field + " must be true or false, got " + kind(e));
    }

    private static double number(JsonObject body, String field) {
        JsonElement e = body.get(field);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            double v = e.getAsDouble();
            if (Double.isFinite(v)) {
                return v;
            }
        }
        throw BadRequest.invalid(field, field + " must be a number, got " + kind(e));
    }

    private static int integer(JsonObject body, String field) {
        JsonElement e = body.get(field);
        Integer v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? whole(e.getAsBigDecimal()) : null;
        if (v == null) {
            throw BadRequest.invalid(field, field + " must be a whole number within " + Integer.MIN_VALUE + ".."
                    + Integer.MAX_VALUE + ", got " + e);
        }
        return v;
    }

    private static void integerAtMost(JsonObject body, String field, int min, int max, String message) {
        if (present(body, field)) {
            int v = integer(body, field);
            if (v < min || v > max) {
                throw BadRequest.invalid(field, message + ", got " + field + " = " + v);
            }
        }
    }

    /** The number as an int when it is whole and fits, else null (1e400, 2.5, 3000000000). */
    private static Integer whole(BigDecimal v) {
        try {
            return v.intValueExact();
        } catch (ArithmeticException e) {
            return null;
        }
    }

    private static String kind(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "null";
        }
        if (e.isJsonObject()) {
            return "an object";
        }
        if (e.isJsonArray()) {
            return "an array";
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        return p.isString() ? "a string" : p.isBoolean() ? "a boolean" : "the number " + p;
    }
}
