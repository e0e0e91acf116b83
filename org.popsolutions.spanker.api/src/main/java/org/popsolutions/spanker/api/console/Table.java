package org.popsolutions.spanker.api.console;

import java.util.List;

/** A titled table of text cells; each surface renders it its own way (Karaf's ShellTable, plain text). */
public record Table(String title, List<String> headers, List<List<String>> rows) {
    public Table {
        headers = List.copyOf(headers);
        rows = rows.stream().map(List::copyOf).toList();
        for (List<String> row : rows) {
            if (row.size() != headers.size()) {
                throw new IllegalArgumentException(
                        "table '" + title + "' has " + headers.size() + " columns but a row has " + row.size());
            }
        }
    }
}
