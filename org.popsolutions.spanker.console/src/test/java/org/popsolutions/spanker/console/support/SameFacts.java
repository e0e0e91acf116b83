package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.console.Table;

/**
 * Checks that a table people read and the JSON document of the same run carry the same facts: every cell must be the
 * JSON value under its column's key printed in its column's unit. The columns are written out by the test, not taken
 * from the command, so a command that renames a key or changes a unit on one side only fails.
 */
public final class SameFacts {
    private SameFacts() {
    }

    /** The table's rows against the JSON rows found in {@code parent} as {@code layout} lays them out under {@code key}. */
    public static void assertSameFacts(Table table, JsonObject parent, String key, Rows.Layout layout,
            Column... columns) {
        assertEquals(List.of(columns).stream().map(Column::header).toList(), table.headers(), table.title());
        List<JsonObject> rows = rows(parent, key, layout, columns);
        assertEquals(rows.size(), table.rows().size(), table.title() + ": rows in the table and in JSON " + key);
        for (int r = 0; r < rows.size(); r++) {
            assertEquals(table.rows().get(r), cells(rows.get(r), columns),
                    table.title() + " row " + r + " vs JSON " + key + "[" + r + "] " + rows.get(r));
        }
    }

    /** The JSON document of one run's report, as --json writes it (so both renderings come from the same run). */
    public static JsonObject json(Report report) {
        return com.google.gson.JsonParser.parseString(Json.write(report.json())).getAsJsonObject();
    }

    /** A list of objects, one per row (the usual layout). */
    public static void assertSameFacts(Table table, JsonObject parent, String key, Column... columns) {
        assertSameFacts(table, parent, key, Rows.Layout.OBJECTS, columns);
    }

    /** One JSON row's members as the table prints them, column by column. */
    public static List<String> cells(JsonObject row, Column... columns) {
        List<String> cells = new ArrayList<>();
        for (Column column : columns) {
            cells.add(column.unit().format(value(row.get(column.key()))));
        }
        return cells;
    }

    private static List<JsonObject> rows(JsonObject parent, String key, Rows.Layout layout, Column... columns) {
        List<JsonObject> rows = new ArrayList<>();
        switch (layout) {
            case OBJECTS -> {
                JsonArray array = parent.getAsJsonArray(key);
                assertNotNull(array, "JSON has no list " + key + ": " + parent.keySet());
                for (JsonElement e : array) {
                    JsonObject row = e.getAsJsonObject();
                    // JSON leaves a null (nothing to say) out; every member it has is a column's
                    assertEquals(List.of(), row.keySet().stream().filter(k -> List.of(columns).stream()
                            .noneMatch(c -> c.key().equals(k))).toList(), key + " has members no column shows: " + row);
                    rows.add(row);
                }
            }
            case MAP -> {
                JsonObject map = parent.getAsJsonObject(key);
                assertNotNull(map, "JSON has no object " + key + ": " + parent.keySet());
                for (Map.Entry<String, JsonElement> entry : map.entrySet()) {
                    JsonObject row = new JsonObject();
                    row.add(columns[0].key(), new JsonPrimitive(entry.getKey()));
                    if (columns.length == 2) {
                        row.add(columns[1].key(), entry.getValue());
                    } else {
                        JsonObject members = entry.getValue().getAsJsonObject();
                        assertEquals(true, members.size() < columns.length, key + "." + entry.getKey() + ": " + members);
                        members.entrySet().forEach(m -> row.add(m.getKey(), m.getValue()));
                    }
                    rows.add(row);
                }
            }
            case VALUES -> {
                JsonArray array = parent.getAsJsonArray(key);
                assertNotNull(array, "JSON has no list " + key + ": " + parent.keySet());
                for (int i = 0; i < array.size(); i++) {
                    JsonObject row = new JsonObject();
                    row.addProperty(columns[0].key(), i);
                    row.add(columns[1].key(), array.get(i));
                    rows.add(row);
                }
            }
            case FIELDS -> {
                JsonObject row = new JsonObject();
                for (Column column : columns) {
                    if (parent.has(column.key())) {
                        row.add(column.key(), parent.get(column.key()));
                    }
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** A JSON value as the number, text, boolean or list it was before it was written. */
    public static Object value(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonArray()) {
            List<Object> list = new ArrayList<>();
            e.getAsJsonArray().forEach(element -> list.add(value(element)));
            return list;
        }
        if (e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean();
        }
        if (e.getAsJsonPrimitive().isNumber()) {
            String text = e.getAsString();
            return text.contains(".") || text.contains("E") || text.contains("e") ? (Object) e.getAsDouble()
                    : (Object) e.getAsLong();
        }
        return e.getAsString();
    }
}
