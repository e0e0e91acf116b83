package org.popsolutions.spanker.console.internal;

import java.util.List;
import java.util.Locale;
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

/**
 * AllReduce over buffers given on the command line, one per card; prints every card's buffer after it. The
 * original algorithm by default; {@code --algo} runs it card to card over the links instead.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=allreduce")
public final class AllReduceCommand extends AbstractConsoleCommand {

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile Collectives collectives;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile CollectiveEngine engine;

    public AllReduceCommand() {
        super("allreduce", "AllReduce over per-card buffers; every card ends with the combined buffer",
                List.of(OptionSpec.choice("op", List.of("sum", "max", "min", "avg"), "how values combine", "sum"),
                        OptionSpec.value("buffers", "\"1,2,3;10,20,30\"", "one ;-separated buffer per card", null),
                        OptionSpec.value("cards", "C", "card count of the topology", "the number of buffers"),
                        OptionSpec.choice("kind", List.of("ring", "mesh"), "cabling of the topology", "ring"),
                        CollectiveRun.ALGORITHM));
    }

    @Override
    protected Report run(Arguments arguments) {
        ReduceOp op = arguments.choice("op", ReduceOp.class).orElse(ReduceOp.SUM);
        CollectiveRun run = CollectiveRun.parse(arguments);
        Report report = new Report();
        List<float[]> results;
        if (run.isReference()) {
            collectives.allReduce(run.topology(), op, run.buffers());
            results = run.buffers();
        } else {
            results = run.on(engine, CollectiveKind.ALL_REDUCE, op, report);
        }
        // JSON: "cards" is the list of the cards' buffers, a card's index its position
        Rows cards = new Rows("cards", "AllReduce " + op.name().toLowerCase(Locale.ROOT) + " on "
                + run.topology().cardCount() + " cards", Column.of("card", "Card"), Column.of("buffer", "Buffer"))
                .as(Rows.Layout.VALUES);
        for (int card = 0; card < results.size(); card++) {
            cards.add(card, results.get(card));
        }
        return report.put("op", op.name().toLowerCase(Locale.ROOT)).rows(cards);
    }
}
