package org.popsolutions.spanker.console.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.FlowControl;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * The inter-card link model's four answers: payload bandwidth, 64-byte round trip, burst versus sustained
 * rate under credit flow control, and the time of every collective algorithm for K cards and N MiB on the
 * rev-A ring and on a mesh.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=link-model")
public final class LinkModelCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkModel linkModel;

    public LinkModelCommand() {
        super("link-model", "The inter-card link model: bandwidth, latency, flow control and collective times",
                List.of(OptionSpec.value("cards", "K", "card count for the collective times (1..256)", "4"),
                        OptionSpec.value("mib", "N", "MiB per card for the collective times", "64")));
    }

    @Override
    protected Report run(Arguments arguments) {
        int cards = arguments.integer("cards", 4);
        if (cards < 1 || cards > 256) {
            throw new UsageException("option --cards must be within 1..256, got " + cards);
        }
        double mib = arguments.decimal("mib").orElse(64.0);
        if (!(mib >= 0) || mib > 8191) {
            throw new UsageException("option --mib must be within 0..8191, got " + mib);
        }
        long bytes = (long) (mib * (1 << 20)) / Float.BYTES * Float.BYTES;
        LinkModel model = linkModel;
        LinkParameters p = model.parameters();
        FlowControl flow = model.flowControl();
        Report report = new Report();

        report.table(Report.tableOf("Link parameters", "Parameter", "Value", "Source")
                .row("lanes", p.lanes(), "rev-A hardware (SPEC §1)")
                .row("lane rate", Units.decimal(p.laneBitsPerSecond() / 1e9) + " Gbit/s", "rev-A hardware (SPEC §1)")
                .row("line coding", p.coding().label(), "rev-A hardware (SPEC §1)")
                .row("frame payload / header / CRC", p.framePayloadBytes() + " / " + p.frameHeaderBytes() + " / "
                        + p.crcBytes() + " B", "assumption (framing not defined by the hardware team)")
                .row("hop latency", Units.seconds(p.hopLatencySeconds()), "assumption")
                .row("link training", Units.seconds(p.trainingSeconds()), "assumption")
                .row("credits", p.creditFrames() + " frames", "assumption")
                .row("reduce rate", Units.rate((long) p.reduceBytesPerSecond()), "assumption: DDR 2 GB/s / 3 streams")
                .row("host link", Units.rate((long) p.hostLinkBytesPerSecond()) + ", "
                        + Units.seconds(p.hostLinkLatencySeconds()) + " one way", "SPEC §1 (rate); assumption (latency)")
                .row("host NIC", p.hostNic().label(), "assumption: one GbE NIC behind a switch (SPEC §1, §10)")
                .build());
        double rtt = model.roundTripSeconds(64);
        report.table(Report.tableOf("Answers", "Question", "Answer")
                .row("1. payload bandwidth per direction", Units.rate((long) model.payloadBytesPerSecond())
                        + " (" + Units.decimal(model.payloadBytesPerSecond()) + " B/s)")
                .row("2. round trip, 64-byte packet, neighbours", Units.seconds(rtt))
                .row("3. burst rate (while credits last)", Units.rate((long) flow.burstBytesPerSecond()) + " for "
                        + flow.burstBytes() + " B")
                .row("3. sustained rate (credit flow control)", Units.rate((long) flow.sustainedBytesPerSecond())
                        + (flow.creditLimited() ? " (limited by credits)" : " (wire-limited; credits suffice)")
                        + ", credit round trip " + Units.seconds(flow.creditRoundTripSeconds()))
                .row("host link: 700 MB model load", Units.seconds(model.hostTransferSeconds(700_000_000L)))
                .build());

        Rows collectives = new Rows("collectives", "4. Collectives of " + Units.decimal(mib) + " MiB per card on "
                + cards + " cards", Column.of("collective", "Collective"), Column.of("cabling", "Cabling"),
                Column.of("algorithm", "Algorithm"), Column.of("seconds", "Time", Unit.SECONDS),
                Column.of("latencySeconds", "α part", Unit.SECONDS),
                Column.of("transferSeconds", "β part", Unit.SECONDS),
                Column.of("reduceSeconds", "γ part", Unit.SECONDS), Column.of("steps", "Steps"),
                Column.of("maxHops", "Max hops"), Column.of("best", "Best", Unit.MARK));
        for (CollectiveKind kind : CollectiveKind.values()) {
            for (TopologyKind cabling : TopologyKind.values()) {
                List<CollectiveEstimate> ranked = model.rank(kind, cabling, cards, bytes);
                for (int i = 0; i < ranked.size(); i++) {
                    CollectiveEstimate e = ranked.get(i);
                    collectives.add(kind.label(), cabling.label(), e.algorithm().label(), e.totalSeconds(),
                            e.latencySeconds(), e.transferSeconds(), e.reduceSeconds(), e.steps(), e.maxHops(),
                            i == 0);
                }
            }
        }
        report.line("flow control: credit-based, one credit per frame, returned one round trip after the frame left;"
                + " a ring forwards to non-neighbours hop by hop (cut-through), sharing links with other messages");
        model.lastRejection().ifPresent(r -> report.line("last link configuration refused: " + r));

        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("lanes", p.lanes());
        parameters.put("laneBitsPerSecond", p.laneBitsPerSecond());
        parameters.put("coding", p.coding().label());
        parameters.put("framePayloadBytes", p.framePayloadBytes());
        parameters.put("frameHeaderBytes", p.frameHeaderBytes());
        parameters.put("crcBytes", p.crcBytes());
        parameters.put("hopLatencySeconds", p.hopLatencySeconds());
        parameters.put("trainingSeconds", p.trainingSeconds());
        parameters.put("creditFrames", p.creditFrames());
        parameters.put("reduceBytesPerSecond", p.reduceBytesPerSecond());
        parameters.put("hostLinkBytesPerSecond", p.hostLinkBytesPerSecond());
        parameters.put("hostLinkLatencySeconds", p.hostLinkLatencySeconds());
        parameters.put("hostNic", p.hostNic().label());
        Map<String, Object> flowJson = new LinkedHashMap<>();
        flowJson.put("burstBytesPerSecond", flow.burstBytesPerSecond());
        flowJson.put("sustainedBytesPerSecond", flow.sustainedBytesPerSecond());
        flowJson.put("creditRoundTripSeconds", flow.creditRoundTripSeconds());
        flowJson.put("burstBytes", flow.burstBytes());
        flowJson.put("creditLimited", flow.creditLimited());
        report.put("parameters", parameters)
                .put("payloadBytesPerSecond", model.payloadBytesPerSecond())
                .put("roundTrip64Seconds", rtt)
                .put("flowControl", flowJson)
                .put("cards", cards)
                .put("bytesPerCard", bytes)
                .rows(collectives);
        return report;
    }
}
