package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.popsolutions.spanker.console.support.Report;

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
        Report report = new Report();
        report.table(Report.tableOf("Bandwidth tiers", "Tier", "Bytes/s", "Rate", "Derivation", "Source")
                .row("LOCAL_DDR", model.localDdrBytesPerSecond(), Units.rate(model.localDdrBytesPerSecond()),
                        "midpoint of 1.5-2.4 GB/s LiteDRAM on one DDR3L SO-DIMM", source)
                .row("INTERCARD", model.intercardBytesPerSecond(), Units.rate(model.intercardBytesPerSecond()),
                        "4 lanes x 1.25 Gbit/s x 8/10 (8b/10b), per direction", source)
                .row("HOST_LINK", model.hostLinkBytesPerSecond(), Units.rate(model.hostLinkBytesPerSecond()),
                        "GbE after IP/UDP/Ethernet headers", source)
                .build());
        Report.TableBuilder invariants = Report.tableOf("Invariants", "Invariant", "Rule", "Status");
        List<Map<String, Object>> invariantJson = new ArrayList<>();
        for (InvariantCheck check : model.invariants()) {
            invariants.row(check.name(), check.rule(), check.holds() ? "holds" : "BROKEN");
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", check.name());
            json.put("rule", check.rule());
            json.put("holds", check.holds());
            invariantJson.add(json);
        }
        report.table(invariants.build());
        report.line("model in effect: " + source);
        service.lastRejection().ifPresent(r -> report.line("last configuration refused: " + r));
        report.put("localDdrBytesPerSecond", model.localDdrBytesPerSecond())
                .put("intercardBytesPerSecond", model.intercardBytesPerSecond())
                .put("hostLinkBytesPerSecond", model.hostLinkBytesPerSecond())
                .put("source", source)
                .put("invariants", invariantJson)
                .put("lastRejection", service.lastRejection().orElse(null));
        return report;
    }
}
