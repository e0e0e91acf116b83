package org.popsolutions.spanker.shell.internal;

import java.util.List;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;

/** A topology-like command: a table of links, a summary line, NoSails for zero cards. */
final class FakeCommand extends AbstractConsoleCommand {
    FakeCommand(String name) {
        super(name, "fake " + name, List.of(
                OptionSpec.value("cards", "N", "number of cards", "2"),
                OptionSpec.choice("kind", List.of("ring", "mesh"), "topology kind", "ring")));
    }

    @Override
    protected Report run(Arguments arguments) {
        int cards = arguments.integer("cards", 2);
        if (cards < 0) {
            throw new ArrayIndexOutOfBoundsException("Index " + cards + " out of bounds for length 4\n\tat a.b.C");
        }
        if (cards == 0) {
            throw new NoSailsException("no cards (expected at least 1)");
        }
        String kind = arguments.string("kind").orElse("ring").toUpperCase();
        Report report = new Report().put("kind", kind).put("cards", cards);
        Report.TableBuilder links = Report.tableOf("Links", "from", "to", "state");
        for (int i = 0; i < cards; i++) {
            links.row(i, (i + 1) % cards, "UP");
        }
        return report.table(links.build()).line(kind + " of " + cards + " cards");
    }
}
