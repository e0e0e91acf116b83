package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.popsolutions.spanker.console.support.Report;

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
        Report.TableBuilder table = Report.tableOf("Partition strategies", "Name", "Ranking", "Service id", "Bundle",
                "Active");
        List<Map<String, Object>> json = new ArrayList<>();
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
            table.row(name, ranking, serviceId, bundle, isActive ? "*" : "");
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", name);
            entry.put("ranking", ranking);
            entry.put("serviceId", serviceId);
            entry.put("bundle", bundle);
            entry.put("active", isActive);
            json.add(entry);
        }
        report.table(table.build());
        report.line(active == null ? "no partition strategy is registered" : "active strategy: " + active);
        report.put("active", active).put("providers", json);
        return report;
    }
}
