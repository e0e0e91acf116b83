package org.popsolutions.spanker.driver.command;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;
import org.popsolutions.spanker.driver.jni.DriverStatus;

/** Pings the kernel driver's control node, shows its ABI version, the round trip and the card nodes found. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=driver")
public final class DriverCommand extends AbstractConsoleCommand {
    static final OptionSpec DEV = OptionSpec.value("dev", "DIR", "directory of the driver's nodes (spankerctl, "
            + "spanker0, ...)", "/dev");

    public DriverCommand() {
        super("driver", "Pings the spanker kernel driver (DIR/spankerctl), shows its ABI version, the round trip and"
                + " the card nodes DIR/spanker0, 1, ... up to the first gap", List.of(DEV));
    }

    @Override
    protected Report run(Arguments arguments) {
        String directory = arguments.string(DEV.name()).orElse(DEV.defaultValue());
        if (directory.isBlank()) {
            throw new UsageException("--dev needs a directory, e.g. --dev /dev");
        }
        DriverStatus status = DriverStatus.probe(Path.of(directory));
        double pingMicros = Math.round(status.pingNanos() / 100.0) / 10.0;
        List<String> cards = new ArrayList<>();
        status.cards().forEach(card -> cards.add(card.toString()));
        String workPath = status.version().hasWorkPath() ? "yes (ABI 0.2: DMA, work submission)"
                : "no (ABI " + status.version() + ": ping and version only)";
        Report report = new Report().rows(new Rows("driver", "Spanker driver", Column.of("control", "Control"),
                Column.of("version", "Version"), Column.of("pingMicros", "Ping (us)"),
                Column.of("workPath", "Work path", Unit.YES_NO)).as(Rows.Layout.FIELDS)
                .add(status.control().toString(), status.version().toString(), pingMicros,
                        status.version().hasWorkPath()));
        report.line("work path: " + workPath);
        // JSON: "cards" lists the nodes, a card's index its position
        Rows nodes = new Rows("cards", "Cards", Column.of("index", "Index"), Column.of("node", "Node"))
                .as(Rows.Layout.VALUES);
        for (int i = 0; i < cards.size(); i++) {
            nodes.add(i, cards.get(i));
        }
        report.rows(nodes);
        report.line(cards.isEmpty() ? "no card node (" + Path.of(directory).resolve("spanker0") + " is missing)"
                : cards.size() + " card node(s)");
        return report;
    }
}
