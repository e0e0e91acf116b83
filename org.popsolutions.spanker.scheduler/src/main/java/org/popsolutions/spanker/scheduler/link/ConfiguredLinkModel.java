package org.popsolutions.spanker.scheduler.link;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.log.Logger;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.link.CollectiveEstimate;
import org.popsolutions.spanker.api.link.CollectiveKind;
import org.popsolutions.spanker.api.link.FlowControl;
import org.popsolutions.spanker.api.link.HostNic;
import org.popsolutions.spanker.api.link.LineCoding;
import org.popsolutions.spanker.api.link.LinkModel;
import org.popsolutions.spanker.api.link.LinkParameters;
import org.popsolutions.spanker.api.topology.TopologyKind;

/**
 * The link model in effect, from PID {@value #PID}. A parameter set that breaks a rule is refused and the
 * previous model stays.
 */
@Component(configurationPid = ConfiguredLinkModel.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = LinkConfig.class)
public final class ConfiguredLinkModel implements LinkModel {
    public static final String PID = "org.popsolutions.spanker.link";

    /** Karaf's log (pax-logging) when there is one; the standalone launcher has none and prints to stderr. */
    @Reference(service = LoggerFactory.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC)
    private volatile Logger logger;

    private volatile LinkCalculator calculator = new LinkCalculator(LinkParameters.REV_A);
    private volatile String lastRejection;

    @Activate
    @Modified
    synchronized void configure(Map<String, Object> properties) {
        ConfigProperties config = new ConfigProperties(PID, properties);
        LinkParameters d = LinkParameters.REV_A;
        try {
            String coding = config.choice("coding", d.coding().label(), LineCoding.B8_B10.label(),
                    LineCoding.B64_B66.label()).toLowerCase(Locale.ROOT);
            LinkParameters parameters = new LinkParameters(
                    config.intWithin("lanes", d.lanes(), 1, 64),
                    config.longWithin("laneBitsPerSecond", d.laneBitsPerSecond(), 1, Long.MAX_VALUE),
                    LineCoding.fromLabel(coding),
                    config.intWithin("framePayloadBytes", d.framePayloadBytes(), 1, Integer.MAX_VALUE),
                    config.intWithin("frameHeaderBytes", d.frameHeaderBytes(), 0, Integer.MAX_VALUE),
                    config.intWithin("crcBytes", d.crcBytes(), 0, Integer.MAX_VALUE),
                    config.doubleWithin("hopLatencySeconds", d.hopLatencySeconds(), 0, Double.MAX_VALUE),
                    config.doubleWithin("trainingSeconds", d.trainingSeconds(), 0, Double.MAX_VALUE),
                    config.intWithin("creditFrames", d.creditFrames(), 1, Integer.MAX_VALUE),
                    config.doubleWithin("reduceBytesPerSecond", d.reduceBytesPerSecond(), Double.MIN_VALUE,
                            Double.MAX_VALUE),
                    config.doubleWithin("hostLinkBytesPerSecond", d.hostLinkBytesPerSecond(), Double.MIN_VALUE,
                            Double.MAX_VALUE),
                    config.doubleWithin("hostLinkLatencySeconds", d.hostLinkLatencySeconds(), 0, Double.MAX_VALUE),
                    HostNic.fromLabel(config.choice("hostNic", d.hostNic().label(), HostNic.SHARED.label(),
                            HostNic.PER_CARD.label())));
            calculator = new LinkCalculator(parameters);
            lastRejection = null;
        } catch (InvalidConfigurationException | IllegalArgumentException e) {
            lastRejection = e.getMessage();
            System.err.println("spanker link model: configuration refused, keeping the previous model: "
                    + e.getMessage());
            Logger log = logger;
            if (log != null) {
                log.error("configuration {} refused, the previous one stays: {}", PID, e.getMessage());
            }
        }
    }

    @Override
    public Optional<String> lastRejection() {
        return Optional.ofNullable(lastRejection);
    }

    public LinkCalculator calculator() {
        return calculator;
    }

    @Override
    public LinkParameters parameters() {
        return calculator.parameters();
    }

    @Override
    public double payloadBytesPerSecond() {
        return calculator.payloadBytesPerSecond();
    }

    @Override
    public double roundTripSeconds(int payloadBytes) {
        return calculator.roundTripSeconds(payloadBytes);
    }

    @Override
    public FlowControl flowControl() {
        return calculator.flowControl();
    }

    @Override
    public double hostTransferSeconds(long bytes) {
        return calculator.hostTransferSeconds(bytes);
    }

    @Override
    public CollectiveEstimate estimate(CollectiveKind kind, CollectiveAlgorithm algorithm, TopologyKind cabling,
            int cards, long bytesPerCard) {
        return calculator.estimate(kind, algorithm, cabling, cards, bytesPerCard);
    }

    @Override
    public List<CollectiveEstimate> rank(CollectiveKind kind, TopologyKind cabling, int cards, long bytesPerCard) {
        return calculator.rank(kind, cabling, cards, bytesPerCard);
    }
}
