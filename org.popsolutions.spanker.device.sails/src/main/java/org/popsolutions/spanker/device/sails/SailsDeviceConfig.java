package org.popsolutions.spanker.device.sails;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(name = "Spanker Sails device",
        description = "Sails cards over the host-link protocol (real cards or a fleet of card emulators).")
public @interface SailsDeviceConfig {
    @AttributeDefinition(description = "Card endpoints host:port, comma-separated, in card order; empty: the"
            + " running fleet's (fleet.json in fleetDirectory)")
    String endpoints() default "";

    @AttributeDefinition(description = "File holding the fleet secret in hex; empty: the running fleet's")
    String secretFile() default "";

    @AttributeDefinition(description = "Where 'spanker fleet start' keeps fleet.json; empty: ~/.cache/spanker/fleet")
    String fleetDirectory() default "";

    @AttributeDefinition(description = "Drive the cards (false: register none, the mock stays the device)")
    boolean enabled() default true;

    @AttributeDefinition(description = "Connect and handshake timeout, ms")
    int connectTimeoutMillis() default 5_000;

    @AttributeDefinition(description = "How long a request may wait for its reply before the card counts as lost, ms"
            + " (a SUBMIT's: this times the card's time dilation)")
    long requestTimeoutMillis() default 120_000;

    @AttributeDefinition(description = "Longest wait between reconnection attempts to a lost card, ms (backoff doubles"
            + " from 100 ms)")
    long reconnectMaxMillis() default 5_000;
}
