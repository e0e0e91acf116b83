package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    record Cost(String name, double seconds) {
    }

    /** Parses as RFC 8259 demands: a bare NaN or Infinity token fails here. */
    private static JsonElement strict(String json) {
        JsonReader reader = new JsonReader(new StringReader(json));
        reader.setStrictness(Strictness.STRICT);
        return JsonParser.parseReader(reader);
    }

    @Test
    void nonFiniteNumbersAreWrittenAsTheirNamesEverywhere() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("nan", Double.NaN);
        doc.put("floats", new float[] {1f, Float.POSITIVE_INFINITY, Float.NaN});
        doc.put("doubles", new double[] {Double.NEGATIVE_INFINITY});
        doc.put("list", List.of(List.of(Float.NaN, 2.5f)));
        doc.put("record", new Cost("tp", Double.POSITIVE_INFINITY));
        doc.put("finite", 2.5e-5);
        JsonElement parsed = strict(Json.write(doc));
        assertEquals("NaN", parsed.getAsJsonObject().get("nan").getAsString());
        assertEquals("Infinity", parsed.getAsJsonObject().getAsJsonArray("floats").get(1).getAsString());
        assertEquals("NaN", parsed.getAsJsonObject().getAsJsonArray("floats").get(2).getAsString());
        assertEquals("-Infinity", parsed.getAsJsonObject().getAsJsonArray("doubles").get(0).getAsString());
        assertEquals("NaN", parsed.getAsJsonObject().getAsJsonArray("list").get(0).getAsJsonArray().get(0)
                .getAsString());
        assertEquals("Infinity", parsed.getAsJsonObject().getAsJsonObject("record").get("seconds").getAsString());
        assertEquals(2.5e-5, parsed.getAsJsonObject().get("finite").getAsDouble());
        assertEquals(1.0, parsed.getAsJsonObject().getAsJsonArray("floats").get(0).getAsDouble());
    }

    @Test
    void errorsAreValidJson() {
        JsonElement parsed = strict(Json.error("Usage", "bad \"quote\" and \\ backslash"));
        assertEquals("bad \"quote\" and \\ backslash",
                parsed.getAsJsonObject().getAsJsonObject("error").get("message").getAsString());
    }
}
