package org.popsolutions.spanker.console.support;

import java.io.PrintStream;
import java.util.List;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.Table;

/**
 * Plain-text rendering of a {@link CommandResult}, for surfaces without Karaf's ShellTable (the standalone
 * launcher). The layout follows ShellTable's: headers, a rule, left-aligned columns joined by " | ";
 * {@code --no-format} drops the rule and separates columns by a tab.
 */
public final class TextTables {
    private TextTables() {
    }

    public static void print(CommandResult result, PrintStream out) {
        if (result.isJson()) {
            out.println(result.json());
            return;
        }
        for (Table table : result.tables()) {
            print(table, result.formatted(), out);
        }
        result.lines().forEach(out::println);
    }

    public static void print(Table table, boolean formatted, PrintStream out) {
        if (!formatted) {
            table.rows().forEach(row -> out.println(String.join("\t", row)));
            return;
        }
        int[] widths = new int[table.headers().size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = table.headers().get(c).length();
            for (List<String> row : table.rows()) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        if (table.title() != null && !table.title().isEmpty()) {
            out.println(table.title());
        }
        out.println(line(table.headers(), widths));
        StringBuilder rule = new StringBuilder();
        for (int c = 0; c < widths.length; c++) {
            rule.append(c == 0 ? "" : "-+-").append("-".repeat(widths[c]));
        }
        out.println(rule);
        table.rows().forEach(row -> out.println(line(row, widths)));
        out.println();
    }

    private static String line(List<String> cells, int[] widths) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < widths.length; c++) {
            String cell = cells.get(c);
            sb.append(c == 0 ? "" : " | ").append(cell);
            if (c < widths.length - 1) {
                sb.append(" ".repeat(widths[c] - cell.length()));
            }
        }
        return sb.toString();
    }
}
