package org.popsolutions.spanker.strategy.bandwidth;

import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.bandwidth.BandwidthModel;
import org.popsolutions.spanker.api.bandwidth.BandwidthModelService;

/**
 * The bandwidth model in effect. A configuration is taken only when it keeps every invariant; otherwise
 * the previous model stays and {@link #lastRejection()} says which invariants it broke.
 */
@Component(configurationPid = ConfiguredBandwidthModel.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = BandwidthConfig.class)
public final class ConfiguredBandwidthModel implements BandwidthModelService {
    public static final String PID = "org.popsolutions.spanker.bandwidth";
    static final String DEFAULTS = "defaults (SPEC §2)";

    private volatile BandwidthModel current = BandwidthModel.DEFAULT;
    private volatile String source = DEFAULTS;
    private volatile String lastRejection;

    @Activate
    @Modified
    synchronized void configure(BandwidthConfig config, Map<String, Object> properties) {
        BandwidthModel requested = new BandwidthModel(config.localDdrBytesPerSecond(), config.intercardBytesPerSecond(),
                config.hostLinkBytesPerSecond());
        try {
            current = requested.requireValid();
            source = properties.containsKey("service.pid") ? "configuration " + PID : DEFAULTS;
            lastRejection = null;
        } catch (InvalidConfigurationException e) {
            lastRejection = e.getMessage() + "; keeping " + current + " from " + source;
            System.err.println("spanker bandwidth model: configuration refused: " + lastRejection);
        }
    }

    @Override
    public BandwidthModel current() {
        return current;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public Optional<String> lastRejection() {
        return Optional.ofNullable(lastRejection);
    }
}
