package org.popsolutions.spanker.console.internal;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.collective.Collectives;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;

/** AllGather over buffers given on the command line: the concatenation in topology order. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=allgather")
public final class AllGatherCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile Collectives collectives;

    public AllGatherCommand() {
        super("allgather", "AllGather over per-card buffers: their concatenation in topology order",
                List.of(OptionSpec.value("buffers", "\"1,2;3,4\"", "one ;-separated buffer per card", null),
                        OptionSpec.value("cards", "C", "card count of the topology", "the number of buffers"),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling of the topology", "ring")));
    }

    @Override
    protected Report run(Arguments arguments) {
        List<float[]> buffers = Buffers.parse(arguments.requiredString("buffers"));
        int cards = CollectiveArguments.cards(arguments, buffers.size());
        TopologyKind kind = arguments.choice("kind", TopologyKind.class).orElse(TopologyKind.RING);
        float[] result = collectives.allGather(SyntheticTopology.of(kind, cards), buffers);
        Report report = new Report();
        report.table(Report.tableOf("AllGather on " + cards + " cards", "Result").row(Buffers.format(result)).build());
        report.put("result", result);
        return report;
    }
}
