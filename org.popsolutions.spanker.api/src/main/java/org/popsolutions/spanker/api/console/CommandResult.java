package org.popsolutions.spanker.api.console;

import java.util.List;

/**
 * What a command produced, for a surface to print: tables and text lines for people, or a JSON document
 * when the user asked for {@code --json}.
 *
 * @param json the JSON document when {@code --json} was given, otherwise {@code null}
 * @param formatted {@code false} when the user asked for {@code --no-format} (plain tables, no borders)
 */
public record CommandResult(List<Table> tables, List<String> lines, String json, boolean formatted) {
    public CommandResult {
        tables = List.copyOf(tables);
        lines = List.copyOf(lines);
    }

    public boolean isJson() {
        return json != null;
    }
}
