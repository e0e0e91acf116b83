package org.popsolutions.spanker.scheduler.collective;

import java.util.List;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveKind;

/**
 * A collective as steps of concurrent transfers. Within a step every source's data is taken before any
 * destination changes, so a step is one round of simultaneous messages; steps run one after another.
 *
 * @param elements n: elements in each card's input buffer
 * @param workLength elements in each card's working array (p·n for allgather, n otherwise)
 */
public record Schedule(CollectiveKind kind, CollectiveAlgorithm algorithm, int cards, int elements, int workLength,
        List<List<Transfer>> steps) {
    public Schedule {
        steps = steps.stream().filter(step -> !step.isEmpty()).map(List::copyOf).toList();
    }
}
