package org.popsolutions.spanker.serve.configured;

import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import org.osgi.annotation.bundle.Capability;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.config.ConfigProperties;
import org.popsolutions.spanker.api.link.CollectiveAlgorithm;
import org.popsolutions.spanker.api.model.ModelReader;
import org.popsolutions.spanker.api.model.ModelShape;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.plan.PlanOptions;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.serve.openai.OpenAiProtocol;

/**
 * The endpoint as a Karaf service: while {@code etc/org.popsolutions.spanker.serve.cfg} names a {@code model}, it is
 * planned on the registered cards, placed, and its {@link OpenAiProtocol} registered for the HTTP whiteboard
 * (spanker-web serves it at {@code /v1/*} and {@code /health} on Karaf's HTTP port). An empty {@code model} serves
 * nothing. A new configuration replaces the model; removing it frees the cards.
 */
@Capability(namespace = "osgi.service", attribute = "objectClass:List<String>="
        + "'org.popsolutions.spanker.serve.openai.OpenAiProtocol,org.popsolutions.spanker.api.runtime.ServingStatus'")
@Component(configurationPid = ConfiguredServing.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
public final class ConfiguredServing {
    static final String PID = "org.popsolutions.spanker.serve";

    private final LoadedModel model;
    private final OpenAiProtocol protocol;
    private final ServiceRegistration<?> registration;

    @Activate
    public ConfiguredServing(BundleContext context, Map<String, Object> properties, @Reference ModelReader reader,
            @Reference ModelPlanner planner, @Reference TopologyService topology,
            @Reference InferenceService inference) {
        ConfigProperties config = new ConfigProperties(PID, properties);
        String file = config.string("model", "").strip();
        if (file.isEmpty()) {
            model = null;
            protocol = null;
            registration = null;
            return;
        }
        Path path = Path.of(file);
        String fileName = path.getFileName().toString();
        String name = config.string("name", fileName.endsWith(".gguf") ? fileName.substring(0, fileName.length() - 5)
                : fileName);
        int queue = config.intWithin("queue", 8, 0, 10_000);
        ModelShape shape = reader.read(path);
        int contextLength = config.intWithin("context", shape.contextLength(), 1, shape.contextLength());
        int threads = config.intWithin("threads", 1, 1, 1024);
        Topology cards = topology.current();
        long memory = cards.cards().stream().mapToLong(Card::memoryBytes).min().orElseThrow(
                () -> new InvalidConfigurationException(PID + ": no cards are registered to serve " + file + " on"));
        Plan plan = planner.plan(shape, cards, new PlanOptions(memory, contextLength));
        model = inference.load(new ModelLoad(path, plan, cards, ActivationMode.GGML, threads, contextLength,
                CollectiveAlgorithm.AUTO));
        protocol = new OpenAiProtocol(model, name, queue);
        Hashtable<String, Object> serviceProperties = new Hashtable<>();
        serviceProperties.put("spanker.model", name);
        registration = context.registerService(new String[] {OpenAiProtocol.class.getName(),
            ServingStatus.class.getName()}, protocol, serviceProperties);
    }

    @Deactivate
    void stop() {
        if (registration != null) {
            protocol.close();
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the bundle is stopping
            }
            model.close();
        }
    }
}
