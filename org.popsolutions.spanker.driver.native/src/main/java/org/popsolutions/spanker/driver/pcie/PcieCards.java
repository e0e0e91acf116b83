package org.popsolutions.spanker.driver.pcie;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.driver.jni.DriverStatus;

/** The cards a probed driver stands for, with the configured cabling, DDR size and link parameters. */
record PcieCards(Path devDirectory, TopologyKind kind, long memoryBytes, long linkBandwidth, double linkLatency) {
    static final String PROVIDER = "pcie";

    static PcieCards from(PcieConfig config) {
        TopologyKind kind;
        try {
            kind = TopologyKind.valueOf(config.kind().trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationException("pcie cabling kind must be RING or MESH, got '" + config.kind() + "'");
        }
        if (config.devDirectory() == null || config.devDirectory().isBlank()) {
            throw new InvalidConfigurationException("pcie devDirectory must name the driver's directory, e.g. /dev");
        }
        if (config.memoryBytes() < 0 || config.linkBandwidthBytesPerSecond() < 0 || !(config.linkLatencySeconds() >= 0)
                || Double.isInfinite(config.linkLatencySeconds())) {
            throw new InvalidConfigurationException("pcie memoryBytes, linkBandwidthBytesPerSecond and"
                    + " linkLatencySeconds must be finite and >= 0");
        }
        return new PcieCards(Path.of(config.devDirectory()), kind, config.memoryBytes(),
                config.linkBandwidthBytesPerSecond(), config.linkLatencySeconds());
    }

    /** One SailDevice per enumerated node, in node order; links as configured (the ABI cannot read link state). */
    List<PcieSail> sails(DriverStatus status) {
        Topology cabled = Topology.uniform(kind, status.cards().size(), PROVIDER, memoryBytes, linkBandwidth,
                linkLatency);
        List<PcieSail> sails = new ArrayList<>();
        for (Card card : cabled.cards()) {
            // named after its node, so a user sees which /dev/spankerN a card is
            Card named = new Card(card.index(), status.cards().get(card.index()).toString(), PROVIDER, memoryBytes);
            sails.add(new PcieSail(named, kind, cabled.links().stream().filter(l -> l.local() == card.index()).toList()));
        }
        return sails;
    }
}
