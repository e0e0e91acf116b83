package org.popsolutions.spanker.console.support;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.popsolutions.spanker.api.SpankerException;

/**
 * JSON output of every command. NaN and ±Infinity are written as the bare tokens {@code NaN},
 * {@code Infinity}, {@code -Infinity} (as JavaScript and Python's json module read them), because a
 * collective legitimately returns NaN and a strategy legitimately costs a zero-bandwidth path as infinite.
 */
public final class Json {
    private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping()
            .create();

    private Json() {
    }

    public static String write(Object value) {
        return GSON.toJson(value);
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
