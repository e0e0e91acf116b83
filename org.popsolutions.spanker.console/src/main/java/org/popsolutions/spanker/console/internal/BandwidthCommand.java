package org.popsolutions.spanker.console.internal;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;
import org.popsolutions.spanker.api.bandwidth.InvariantCheck;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/** The three bandwidth tiers in effect, where they come from, and every invariant's status. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=bandwidth")
public final class BandwidthCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile BandwidthModelService bandwidth;

    public BandwidthCommand() {
        super("bandwidth", "The three bandwidth tiers in effect, their sources, and the status of every invariant",
                List.of());
    }

    @Override
    protected Report run(Arguments arguments) {
        BandwidthModelService service = bandwidth;
        BandwidthModel model = service.current();
        String source = service.source();
        Rows tiers = new Rows("tiers", "Bandwidth tiers", Column.of("tier", "Tier"),
                Column.of("bytesPerSecond", "Rate", Unit.BYTES_PER_SECOND), Column.of("derivation", "Derivation"),
                Column.of("source", "Source"))
                .add("LOCAL_DDR", model.localDdrBytesPerSecond(),
                        "midpoint of 1.5-2.4 GB/s LiteDRAM on one DDR3L SO-DIMM", source)
                .add("INTERCARD", model.intercardBytesPerSecond(),
                        "4 lanes x 1.25 Gbit/s x 8/10 (8b/10b), per direction", source)
                .add("HOST_LINK", model.hostLinkBytesPerSecond(), "GbE after IP/UDP/Ethernet headers", source);
        Rows invariants = new Rows("invariants", "Invariants", Column.of("name", "Invariant"),
                Column.of("rule", "Rule"), Column.of("holds", "Holds", Unit.YES_NO));
        for (InvariantCheck check : model.invariants()) {
            invariants.add(check.name(), check.rule(), check.holds());
        }
        // each tier's rate is also a member of its own (the configuration's property names), as scripts read it
        Report report = new Report().put("localDdrBytesPerSecond", tiers.value(0, "bytesPerSecond"))
                .put("intercardBytesPerSecond", tiers.value(1, "bytesPerSecond"))
                .put("hostLinkBytesPerSecond", tiers.value(2, "bytesPerSecond"))
                .put("source", source).rows(tiers).rows(invariants)
                .put("lastRejection", service.lastRejection().orElse(null));
        report.line("model in effect: " + source);
        service.lastRejection().ifPresent(r -> report.line("last configuration refused: " + r));
        return report;
    }
}
