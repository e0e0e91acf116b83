package org.popsolutions.spanker.device.mock;

import java.util.HashMap;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.popsolutions.spanker.api.card.CardEvents;
import org.popsolutions.spanker.api.topology.LinkState;
import org.popsolutions.spanker.device.mock.card.LinkEventSink;

/**
 * Posts the mock cards' port changes to EventAdmin ({@link CardEvents#LINK_STATE}). Active only while an
 * EventAdmin is registered; the bundle imports its package optionally, so the cards work without one.
 */
@Component(service = LinkEventSink.class)
public final class EventAdminLinkEvents implements LinkEventSink {
    private final EventAdmin eventAdmin;

    @org.osgi.service.component.annotations.Activate
    public EventAdminLinkEvents(@Reference EventAdmin eventAdmin) {
        this.eventAdmin = eventAdmin;
    }

    @Override
    public void linkState(int card, int port, int neighbour, LinkState state, LinkState previous) {
        Map<String, Object> properties = new HashMap<>();
        properties.put(CardEvents.CARD, card);
        properties.put(CardEvents.PORT, port);
        properties.put(CardEvents.NEIGHBOUR, neighbour);
        properties.put(CardEvents.STATE, state.name());
        properties.put(CardEvents.PREVIOUS_STATE, previous.name());
        properties.put(CardEvents.PROVIDER, MockCardsSpec.PROVIDER);
        eventAdmin.postEvent(new Event(CardEvents.LINK_STATE, properties));
    }
}
