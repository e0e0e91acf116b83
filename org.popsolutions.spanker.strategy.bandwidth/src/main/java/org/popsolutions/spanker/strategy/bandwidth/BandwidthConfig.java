package org.popsolutions.spanker.strategy.bandwidth;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

@ObjectClassDefinition(id = ConfiguredBandwidthModel.PID, name = "Spanker bandwidth model",
        description = "The three bandwidth tiers in bytes/s. A model that breaks an invariant is refused and the "
                + "previous one stays in effect.")
@interface BandwidthConfig {
    @AttributeDefinition(description = "Card-local DDR bandwidth, bytes/s (rev-A LiteDRAM: 1.5-2.4 GB/s).")
    long localDdrBytesPerSecond() default 2_000_000_000L;

    @AttributeDefinition(description = "One direction of an inter-card LVDS link, bytes/s (4 x 1.25 Gbit/s x 8/10).")
    long intercardBytesPerSecond() default 500_000_000L;

    @AttributeDefinition(description = "GbE host link after protocol headers, bytes/s.")
    long hostLinkBytesPerSecond() default 100_000_000L;
}
