package org.popsolutions.spanker.console.support;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.LinkedHashMap;
import java.util.Map;
import org.popsolutions.spanker.api.SpankerException;

/**
 * JSON output of every command, always valid JSON (RFC 8259). A non-finite number, which a collective legitimately
 * returns (NaN) and a cost legitimately reaches (an unreachable path is infinitely slow), is written as one of the
 * strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}: valid everywhere, and still distinct from each
 * other and from a missing value, which {@code null} would not be.
 */
public final class Json {
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping()
            .create();

    private Json() {
    }

    public static String write(Object value) {
        return GSON.toJson(finite(GSON.toJsonTree(value)));
    }

    /** The tree with every non-finite number replaced by its name as a string (see the class comment). */
    static JsonElement finite(JsonElement element) {
        if (element.isJsonObject()) {
            JsonObject object = element.getAsJsonObject();
            for (Map.Entry<String, JsonElement> member : object.entrySet()) {
                member.setValue(finite(member.getValue()));
            }
        } else if (element.isJsonArray()) {
            JsonArray array = element.getAsJsonArray();
            for (int i = 0; i < array.size(); i++) {
                array.set(i, finite(array.get(i)));
            }
        } else if (element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber()) {
            double number = element.getAsDouble();
            if (!Double.isFinite(number)) {
                return new JsonPrimitive(Double.isNaN(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
            }
        }
        return element;
    }

    /** {@code {"error": {"kind": "...", "message": "..."}}} */
    public static String error(String kind, String message) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("kind", kind);
        error.put("message", message);
        return GSON.toJson(Map.of("error", error));
    }

    public static String error(SpankerException e) {
        return error(e.kind().label(), e.getMessage());
    }
}
