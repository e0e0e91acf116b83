package org.popsolutions.spanker.runtime.service;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.collective.CardCollectives;
import org.popsolutions.spanker.api.runtime.InferenceObserver;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadProgress;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.LoadedStage;
import org.popsolutions.spanker.api.runtime.StageLoad;
import org.popsolutions.spanker.api.runtime.ModelLoad;

/**
 * The inference service on the plan executor: the highest-ranked card provider opens the cards, the card
 * collectives join tensor-parallel blocks, and every registered {@link InferenceObserver} sees loads and tokens.
 */
@Component(service = InferenceService.class)
public final class PlanInferenceService implements InferenceService {
    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CardProvider cardProvider;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile CardCollectives collectives;

    private final List<InferenceObserver> observers = new CopyOnWriteArrayList<>();
    /** Every registered provider, for stages that name theirs (a host's cards: mock or sails). */
    private final List<CardProvider> providers = new CopyOnWriteArrayList<>();

    public PlanInferenceService() {
    }

    /** Outside OSGi (tests, tools): the same service on the given cards and collectives. */
    public PlanInferenceService(CardProvider cardProvider, CardCollectives collectives) {
        this.cardProvider = cardProvider;
        this.collectives = collectives;
        if (cardProvider != null) {
            providers.add(cardProvider);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addObserver(InferenceObserver observer) {
        observers.add(observer);
    }

    public void removeObserver(InferenceObserver observer) {
        observers.remove(observer);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addProvider(CardProvider provider) {
        providers.add(provider);
    }

    public void removeProvider(CardProvider provider) {
        providers.remove(provider);
    }

    @Override
    public LoadedModel load(ModelLoad request) {
        return load(request, LoadProgress.NONE);
    }

    @Override
    public LoadedModel load(ModelLoad request, LoadProgress progress) {
        PlacedModel model = PlacedModel.load(request, cardProvider, collectives, new Observers(observers), progress);
        model.announceLoaded();
        return model;
    }

    @Override
    public LoadedStage loadStage(StageLoad request) {
        CardProvider provider = request.cardProvider() == null ? cardProvider : named(request.cardProvider());
        return PlacedStage.load(request.model(), request.stage(), provider, collectives);
    }

    private CardProvider named(String name) {
        CardProvider chosen = cardProvider;
        if (chosen != null && chosen.name().equals(name)) {
            return chosen;
        }
        for (CardProvider provider : providers) {
            if (provider.name().equals(name)) {
                return provider;
            }
        }
        throw new InvalidConfigurationException("no card provider named '" + name + "' is registered (registered: "
                + providers.stream().map(CardProvider::name).toList() + ")");
    }
}
