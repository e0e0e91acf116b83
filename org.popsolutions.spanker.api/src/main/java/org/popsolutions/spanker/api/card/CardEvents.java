package org.popsolutions.spanker.api.card;

/**
 * Topics and properties of the events a device bundle posts through OSGi EventAdmin.
 *
 * <p>{@link #LINK_STATE}: a port changed state; properties {@link #CARD} (Integer), {@link #PORT} (Integer),
 * {@link #NEIGHBOUR} (Integer, the card at the other end), {@link #STATE} and {@link #PREVIOUS_STATE} (String, a
 * {@link org.popsolutions.spanker.api.topology.LinkState} name), {@link #PROVIDER} (String).
 */
public interface CardEvents {
    /** Every card topic starts with this. */
    String TOPIC_PREFIX = "org/popsolutions/spanker/card/";
    String LINK_STATE = TOPIC_PREFIX + "LINK_STATE";

    String CARD = "card";
    String PORT = "port";
    String NEIGHBOUR = "neighbour";
    String STATE = "state";
    String PREVIOUS_STATE = "previousState";
    String PROVIDER = "provider";
}
