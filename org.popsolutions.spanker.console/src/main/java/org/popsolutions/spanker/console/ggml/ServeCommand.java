package org.popsolutions.spanker.console.ggml;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plan.ModelPlanner;
import org.popsolutions.spanker.api.plan.Plan;
import org.popsolutions.spanker.api.runtime.CompletionServer;
import org.popsolutions.spanker.api.runtime.InferenceService;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ModelLoad;
import org.popsolutions.spanker.api.runtime.ServeOptions;
import org.popsolutions.spanker.api.runtime.ServingEndpoint;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.model.llama.LlamaConfig;

/**
 * Places a model on the cards as the active strategy plans it and serves it over an OpenAI-compatible HTTP endpoint
 * on 127.0.0.1 until interrupted (Ctrl-C); the report at the end counts what was served.
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=serve")
public final class ServeCommand extends AbstractConsoleCommand {
    static final int DEFAULT_PORT = 8080;
    static final int DEFAULT_QUEUE = 8;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile ModelPlanner planner;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile TopologyService topology;

    @Reference(policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile InferenceService inference;

    /** Optional, so the console resolves without the serve bundle (Karaf boots without spanker-web). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile CompletionServer server;

    public ServeCommand() {
        super("serve", "serve a model on the cards over an OpenAI-compatible HTTP endpoint on 127.0.0.1"
                + " (/v1/completions, /v1/chat/completions, /v1/models, /health) until interrupted",
                ModelRuns.with(List.of(
                        ModelRuns.MODEL,
                        OptionSpec.value("port", "P", "TCP port on 127.0.0.1 (0 = any free port)",
                                Integer.toString(DEFAULT_PORT)),
                        OptionSpec.value("queue", "N", "requests that may wait while one generates; one more is"
                                + " answered 503", Integer.toString(DEFAULT_QUEUE)),
                        OptionSpec.value("name", "ID", "the model's name for clients (the 'model' field)",
                                "the file name without .gguf"))));
    }

    @Override
    protected Report run(Arguments arguments) {
        int port = arguments.integer("port", DEFAULT_PORT);
        if (port < 0 || port > 65535) {
            throw new UsageException("option --port must be within 0..65535, got " + port);
        }
        int queue = arguments.integer("queue", DEFAULT_QUEUE);
        if (queue < 0 || queue > 10_000) {
            throw new UsageException("option --queue must be within 0..10000, got " + queue);
        }
        CompletionServer http = server;
        if (http == null) {
            throw new InvalidConfigurationException("serving needs the HTTP endpoint bundle"
                    + " org.popsolutions.spanker.serve (in Karaf: feature:install spanker-web)");
        }
        String modelPath = ModelRuns.modelPath(arguments);
        String id = arguments.string("name").orElseGet(() -> {
            String file = Path.of(modelPath).getFileName().toString();
            return file.endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
        });
        if (id.isBlank()) {
            throw new UsageException("option --name must not be blank");
        }
        GgufFile file = ModelRuns.open(modelPath);
        LlamaConfig config = LlamaConfig.of(file);
        int context = ModelRuns.context(arguments, config);
        Topology cards = ModelRuns.topology(arguments, topology);
        Plan plan = ModelRuns.plan(planner, file, cards, arguments, context);
        ModelLoad load = ModelRuns.load(arguments, modelPath, plan, cards, context);
        // the announcement is for people (stdout); with --json stdout carries only the final document
        PrintStream announce = arguments.flag(JSON.name()) ? System.err : System.out;
        ServingEndpoint endpoint;
        Report report = new Report();
        try (LoadedModel model = ModelRuns.place(inference, load)) {
            endpoint = http.serve(model, new ServeOptions(id, port, queue));
            try {
                announce.println(String.format(Locale.ROOT, "serving %s (%s, %d cards, %s) on %s, loaded in %.3f s;"
                        + " POST v1/completions, v1/chat/completions (%s); GET v1/models, health; Ctrl-C stops", id,
                        config.name(), plan.cards(), plan.strategy(), endpoint.address(), model.loadSeconds(),
                        model.chatTemplate().isPresent() ? "chat laid out by the model's chat template"
                                : "the model has no chat template: chat laid out as role: content lines"));
                announce.flush();
                waitUntilInterrupted();
            } finally {
                endpoint.close();
            }
            ModelRuns.describePlan(report, plan, model);
            report.line(String.format(Locale.ROOT, "served %d requests, %d cancelled by their clients, %d refused"
                    + " (queue full) at %s", endpoint.served(), endpoint.cancelled(), endpoint.rejected(),
                    endpoint.address()));
            report.put("model", modelPath).put("name", id).put("address", endpoint.address().toString())
                    .put("loadSeconds", model.loadSeconds()).put("served", endpoint.served())
                    .put("cancelled", endpoint.cancelled()).put("rejected", endpoint.rejected());
        }
        return report;
    }

    private static void waitUntilInterrupted() {
        Object forever = new Object();
        synchronized (forever) {
            try {
                while (true) {
                    forever.wait();
                }
            } catch (InterruptedException e) {
                // Ctrl-C in Karaf's shell, or the launcher shutting down: stop serving and report
            }
        }
    }
}
