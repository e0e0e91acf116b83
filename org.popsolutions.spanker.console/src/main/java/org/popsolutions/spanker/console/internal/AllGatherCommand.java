package org.popsolutions.spanker.console.internal;

import java.util.List;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.collective.CollectiveEngine;
import org.popsolutions.spanker.api.collective.Collectives;
import org.popsolutions.spanker.api.collective.ReduceOp;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;

/** AllGather over buffers given on the command line: the concatenation in topology order. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=allgather")
public final class AllGatherCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile Collectives collectives;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile CollectiveEngine engine;

    public AllGatherCommand() {
        super("allgather", "AllGather over per-card buffers: their concatenation in topology order",
                List.of(OptionSpec.value("buffers", "\"1,2;3,4\"", "one ;-separated buffer per card", null),
                        OptionSpec.value("cards", "C", "card count of the topology", "the number of buffers"),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling of the topology", "ring"),
                        CollectiveRun.ALGORITHM));
    }

    @Override
    protected Report run(Arguments arguments) {
        CollectiveRun run = CollectiveRun.parse(arguments);
        Report report = new Report();
        float[] result;
        if (run.isReference()) {
            result = collectives.allGather(run.topology(), run.buffers());
        } else {
            List<float[]> perCard = run.on(engine, CollectiveKind.ALL_GATHER, ReduceOp.SUM, report);
            result = perCard.isEmpty() ? new float[0] : perCard.get(0);
        }
        return report.rows(new Rows("result", "AllGather on " + run.topology().cardCount() + " cards",
                Column.of("result", "Result")).as(Rows.Layout.FIELDS).add((Object) result));
    }
}
