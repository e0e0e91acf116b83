package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.console.support.Unit;

/**
 * Every registered partition strategy, its ranking, and the active one: the provider a dynamic greedy
 * reference binds, i.e. the highest {@code service.ranking}, then the lowest service id.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=strategy")
public final class StrategyCommand extends AbstractConsoleCommand {

    @Reference(service = PartitionStrategy.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC)
    final List<ServiceReference<PartitionStrategy>> providers = new CopyOnWriteArrayList<>();

    public StrategyCommand() {
        super("strategy", "Every registered partition strategy provider, its ranking, and which one is active",
                List.of());
    }

    @Override
    protected Report run(Arguments arguments) {
        List<ServiceReference<PartitionStrategy>> ranked = new ArrayList<>(providers);
        // ServiceReference order: higher ranking first wins, then lower service id; sort best first.
        ranked.sort(Collections.reverseOrder());
        Report report = new Report();
        Rows providersRows = new Rows("providers", "Partition strategies", Column.of("name", "Name"),
                Column.of("ranking", "Ranking"), Column.of("serviceId", "Service id"), Column.of("bundle", "Bundle"),
                Column.of("active", "Active", Unit.MARK));
        String active = null;
        for (int i = 0; i < ranked.size(); i++) {
            ServiceReference<PartitionStrategy> reference = ranked.get(i);
            String name = String.valueOf(reference.getProperty(PartitionStrategy.NAME));
            Object rankingProperty = reference.getProperty(Constants.SERVICE_RANKING);
            int ranking = rankingProperty instanceof Integer r ? r : 0;
            long serviceId = (Long) reference.getProperty(Constants.SERVICE_ID);
            String bundle = reference.getBundle() == null ? "(gone)" : reference.getBundle().getSymbolicName();
            boolean isActive = i == 0;
            if (isActive) {
                active = name;
            }
            providersRows.add(name, ranking, serviceId, bundle, isActive);
        }
        report.put("active", active).rows(providersRows);
        report.line(active == null ? "no partition strategy is registered" : "active strategy: " + active);
        return report;
    }
}
