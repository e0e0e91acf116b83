package org.popsolutions.spanker.device.mock;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.card.CardGroup;
import org.popsolutions.spanker.api.card.CardGroupSpec;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.device.mock.card.LinkEventSink;
import org.popsolutions.spanker.device.mock.card.MockCardGroup;

/**
 * Opens groups of in-process mock cards: the configured cards themselves (the registered services) when the spec
 * names exactly them, shared with the other groups that hold them; else cards of the group's own. Port changes go
 * to EventAdmin when it is there.
 */
@Component(property = CardProvider.PROVIDER + "=" + MockCardsSpec.PROVIDER)
public final class MockCardProvider implements CardProvider {
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile LinkEventSink events;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile MockCardFleet fleet;

    public MockCardProvider() {
    }

    @Override
    public String name() {
        return MockCardsSpec.PROVIDER;
    }

    @Override
    public CardGroup open(CardGroupSpec spec) {
        MockCardFleet configured = fleet;
        CardGroup claimed = configured == null ? null : configured.claim(spec);
        if (claimed != null) {
            return claimed;
        }
        return new MockCardGroup(spec, MockCardsSpec.PROVIDER, (card, port, neighbour, state, previous) -> {
            LinkEventSink sink = events;
            if (sink != null) {
                sink.linkState(card, port, neighbour, state, previous);
            }
        });
    }
}
