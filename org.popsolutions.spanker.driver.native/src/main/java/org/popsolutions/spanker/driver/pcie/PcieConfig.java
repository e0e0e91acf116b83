package org.popsolutions.spanker.driver.pcie;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(id = PcieCardProvider.PID, name = "Spanker PCIe cards",
        description = "Cards behind the spanker kernel driver: registered with the topology when this configuration"
                + " exists. The driver ABI reports neither DDR size nor link state, so both are configured here.")
@interface PcieConfig {
    @AttributeDefinition(description = "Directory holding spankerctl and spanker0, spanker1, ... (the driver's nodes).")
    String devDirectory() default "/dev";

    @AttributeDefinition(description = "How the cards are cabled card to card.",
            options = {@Option(label = "Ring", value = "RING"), @Option(label = "Mesh", value = "MESH")})
    String kind() default "RING";

    @AttributeDefinition(description = "Card-local DDR capacity in bytes.")
    long memoryBytes() default 4_294_967_296L;

    @AttributeDefinition(description = "Payload bandwidth of each directed inter-card link, bytes/s.")
    long linkBandwidthBytesPerSecond() default 500_000_000L;

    @AttributeDefinition(description = "One-way latency of each inter-card link, seconds.")
    double linkLatencySeconds() default 1.0e-6;
}
