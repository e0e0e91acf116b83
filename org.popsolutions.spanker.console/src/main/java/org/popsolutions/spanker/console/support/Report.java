package org.popsolutions.spanker.console.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.popsolutions.spanker.api.console.Table;

/**
 * What a command found, collected once and rendered either as tables and lines for people or as one JSON
 * document (the {@link #json()} map, which keeps insertion order). {@link Rows} carry the same facts to both: one
 * model, one table renderer, one JSON renderer.
 */
public final class Report {
    private final List<Table> tables = new ArrayList<>();
    private final List<String> lines = new ArrayList<>();
    private final Map<String, Object> json = new LinkedHashMap<>();

    public Report table(Table table) {
        tables.add(table);
        return this;
    }

    /**
     * Adds rows rendered both ways from the same values: their table, and their JSON under {@link Rows#key()}. Add
     * them complete (they are rendered here).
     */
    public Report rows(Rows rows) {
        return rows(rows, json);
    }

    /**
     * Adds rows whose JSON is a member of {@code parent} (an object nested in the document, e.g. a run's
     * {@code timing}); their table is one of this report's tables.
     */
    @SuppressWarnings("unchecked")
    public Report rows(Rows rows, Map<String, Object> parent) {
        tables.add(rows.table());
        Object value = rows.jsonValue();
        if (rows.layout() == Rows.Layout.FIELDS) {
            parent.putAll((Map<String, Object>) value);
        } else {
            parent.put(rows.key(), value);
        }
        return this;
    }

    /** Adds rows whose table shows only the first {@code shown} of them (its title says so); JSON carries them all. */
    public Report rows(Rows rows, int shown) {
        tables.add(rows.table(shown));
        json.put(rows.key(), rows.jsonValue());
        return this;
    }

    /** Adds rows whose table was printed already, row by row as it was measured: only their JSON is added. */
    public Report printedRows(Rows rows) {
        json.put(rows.key(), rows.jsonValue());
        return this;
    }

    public Report line(String line) {
        lines.add(line);
        return this;
    }

    /** Adds a member to the JSON document; values may be maps, lists, arrays, records, strings, numbers. */
    public Report put(String key, Object value) {
        json.put(key, value);
        return this;
    }

    public List<Table> tables() {
        return tables;
    }

    public List<String> lines() {
        return lines;
    }

    public Map<String, Object> json() {
        return json;
    }

    /** A table builder: {@code Report.tableOf("Links", "from", "to").row(0, 1).build()}. */
    public static TableBuilder tableOf(String title, String... headers) {
        return new TableBuilder(title, List.of(headers));
    }

    public static final class TableBuilder {
        private final String title;
        private final List<String> headers;
        private final List<List<String>> rows = new ArrayList<>();

        private TableBuilder(String title, List<String> headers) {
            this.title = title;
            this.headers = headers;
        }

        public TableBuilder row(Object... cells) {
            List<String> row = new ArrayList<>(cells.length);
            for (Object cell : cells) {
                row.add(String.valueOf(cell));
            }
            rows.add(row);
            return this;
        }

        public Table build() {
            return new Table(title, headers, rows);
        }
    }
}
