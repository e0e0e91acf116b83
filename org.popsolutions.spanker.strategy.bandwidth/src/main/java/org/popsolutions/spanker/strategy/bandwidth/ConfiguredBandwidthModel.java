package org.popsolutions.spanker.strategy.bandwidth;

import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.popsolutions.spanker.api.config.ConfigProperties;
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

    /** Karaf's log (pax-logging) when there is one; the standalone launcher has none and prints to stderr. */
    @Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC)
    private volatile Logger logger;

    @Activate
    @Modified
    synchronized void configure(Map<String, Object> properties) {
        ConfigProperties config = new ConfigProperties(PID, properties);
        try {
            BandwidthModel requested = new BandwidthModel(
                    config.longWithin("localDdrBytesPerSecond", BandwidthModel.LOCAL_DDR_BW, 0, Long.MAX_VALUE),
                    config.longWithin("intercardBytesPerSecond", BandwidthModel.INTERCARD_BW, 0, Long.MAX_VALUE),
                    config.longWithin("hostLinkBytesPerSecond", BandwidthModel.HOST_LINK_BW, 0, Long.MAX_VALUE));
            current = requested.requireValid();
            source = config.configured() ? "configuration " + PID : DEFAULTS;
            lastRejection = null;
        } catch (InvalidConfigurationException e) {
            lastRejection = e.getMessage() + "; keeping " + current + " from " + source;
            Logger log = logger;
            if (log != null) {
                log.error("configuration refused: {}", lastRejection);
            }
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
