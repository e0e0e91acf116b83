package org.popsolutions.spanker.device.mock;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(id = MockCardFleet.PID, name = "Spanker mock cards",
        description = "In-process mock Sails cards; a change re-registers the cards and the topology follows.")
@interface MockDeviceConfig {
    @AttributeDefinition(description = "Number of mock cards (0 to 256; 0 while another provider drives the cards).", min = "0", max = "256")
    int cards() default 4;

    @AttributeDefinition(description = "How the cards are cabled: RING (rev-A upstream/downstream ports) or MESH.",
            options = {@Option(label = "Ring", value = "RING"), @Option(label = "Mesh", value = "MESH")})
    String kind() default "RING";

    @AttributeDefinition(description = "Card-local DDR capacity in bytes (rev-A: one 4 GB DDR3L SO-DIMM).")
    long memoryBytes() default 4_294_967_296L;

    @AttributeDefinition(description = "Payload bandwidth of each directed inter-card link, bytes/s.")
    long linkBandwidthBytesPerSecond() default 500_000_000L;

    @AttributeDefinition(description = "One-way latency of each inter-card link, seconds.")
    double linkLatencySeconds() default 1.0e-6;

    @AttributeDefinition(description = "Links that are not UP, as local-remote=STATE pairs separated by commas "
            + "(e.g. 0-1=DOWN,2-3=TRAINING; states DOWN, TRAINING, FAULT); every other link is UP. Fault injection "
            + "for tests and demos.")
    String linkStates() default "";
}
