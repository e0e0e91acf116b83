package org.popsolutions.spanker.shell.internal;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.karaf.shell.support.table.ShellTable;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.Table;

/** Prints a {@link CommandResult} the Karaf way: JSON as is, tables through {@link ShellTable}, then the lines. */
final class ResultPrinter {
    private ResultPrinter() {
    }

    static void print(CommandResult result, PrintStream out) {
        if (result.isJson()) {
            out.println(result.json());
            return;
        }
        for (Table table : result.tables()) {
            print(table, result.formatted(), out);
        }
        result.lines().forEach(out::println);
        out.flush();
    }

    /**
     * {@code --no-format} (formatted = false) prints neither title nor headers, only tab-separated rows, which
     * is what scripts want to cut and grep.
     */
    static void print(Table table, boolean formatted, PrintStream out) {
        if (formatted && table.title() != null && !table.title().isEmpty()) {
            out.println(table.title());
        }
        ShellTable shellTable = new ShellTable();
        table.headers().forEach(shellTable::column);
        for (List<String> row : table.rows()) {
            shellTable.addRow().addContent(new ArrayList<Object>(row));
        }
        shellTable.print(out, formatted);
        if (formatted) {
            out.println();
        }
    }
}
