package org.popsolutions.spanker.cluster.node;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.popsolutions.spanker.api.card.CardProvider;
import org.popsolutions.spanker.api.cluster.ClusterException;
import org.popsolutions.spanker.api.cluster.HostPipelineRequest;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.runtime.InferenceService;

/**
 * One L3 host's card runtime: an OSGi framework of its own (Felix with SCR and Config Admin) holding the device,
 * scheduler and runtime bundles, started the first time the host loads a pipeline stage. The host reaches its cards
 * only through the services registered there — {@link InferenceService} (the runtime) over a {@link CardProvider}
 * (device.mock or device.sails) and the card collectives (the scheduler) — so which cards a host has is
 * configuration: {@code mock} cards compute in the host's process; {@code sails} cards are the host's own fleet of
 * emulated cards, started by this runtime through the device bundle's {@code fleet} command in the host's directory,
 * tied to the host's process ({@code --owner}: a host killed outright takes its cards with it), and driven by that
 * device bundle (framework property {@code spanker.device=sails}, as the launcher's {@code --device sails}).
 */
final class HostRuntime implements AutoCloseable {
    /** System property of a node process: the bundle jars of a host's card runtime, path-separated. */
    static final String BUNDLES_PROPERTY = "spanker.cluster.bundles";
    private static final String MOCK_BUNDLE = "org.popsolutions.spanker.device.mock";
    private static final String SAILS_BUNDLE = "org.popsolutions.spanker.device.sails";
    private static final String FLEET_DIRECTORY = "spanker.fleet.dir";
    /** The framework property the device bundles read (as the launcher's --device). */
    private static final String DEVICE_PROPERTY = "spanker.device";

    private final Framework framework;
    private final Path storage;
    private final String device;
    private final int cards;
    private final boolean fleetStarted;

    private HostRuntime(Framework framework, Path storage, String device, int cards, boolean fleetStarted) {
        this.framework = framework;
        this.storage = storage;
        this.device = device;
        this.cards = cards;
        this.fleetStarted = fleetStarted;
    }

    /**
     * Starts the framework; for {@code sails} also the host's fleet of {@code cards} emulated cards, owned by this
     * process, in {@code hostDirectory/fleet}.
     */
    static HostRuntime start(String device, int cards, Path hostDirectory, Duration timeout) {
        List<Path> jars = bundleJars();
        boolean sails = HostPipelineRequest.SAILS.equals(device);
        Path storage;
        try {
            Files.createDirectories(hostDirectory);
            storage = Files.createTempDirectory(hostDirectory, "felix-");
        } catch (IOException e) {
            throw new ClusterException("cannot create the host's directory " + hostDirectory + ": " + e.getMessage());
        }
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, systemPackages());
        config.put(FLEET_DIRECTORY, hostDirectory.resolve("fleet").toString());
        config.put(DEVICE_PROPERTY, device);
        config.put("felix.log.level", "1");
        config.put("ds.log.enabled", "false");
        Framework framework = ServiceLoader.load(FrameworkFactory.class, HostRuntime.class.getClassLoader())
                .findFirst().orElseThrow(() -> new ClusterException("no OSGi framework on the node class path"))
                .newFramework(config);
        HostRuntime runtime = null;
        boolean fleet = false;
        try {
            framework.init();
            framework.start();
            installAndStart(framework.getBundleContext(), jars, sails);
            if (sails) {
                long deadline = System.nanoTime() + timeout.toNanos();
                command(framework.getBundleContext(), "fleet", deadline, "start", "--cards", Integer.toString(cards),
                        "--owner", Long.toString(ProcessHandle.current().pid()));
                fleet = true;
                restartSails(framework.getBundleContext());
            }
            runtime = new HostRuntime(framework, storage, device, cards, fleet);
            return runtime;
        } catch (BundleException | RuntimeException e) {
            if (runtime == null) {
                new HostRuntime(framework, storage, device, cards, fleet).close();
            }
            if (e instanceof ClusterException c) {
                throw c;
            }
            throw new ClusterException("the host's card runtime (" + device + ") did not start: " + e.getMessage());
        }
    }

    /** Whether this runtime serves a stage on {@code device} with {@code cards} cards (a fleet has a fixed size). */
    boolean fits(String wantedDevice, int wantedCards) {
        return device.equals(wantedDevice) && (!fleetStarted || cards == wantedCards);
    }

    String device() {
        return device;
    }

    /** The runtime's inference service, waiting up to {@code timeout} for it to be registered. */
    InferenceService inference(Duration timeout) {
        return awaitService(framework.getBundleContext(), InferenceService.class, null,
                System.nanoTime() + timeout.toNanos(), "the runtime's inference service");
    }

    /** Waits for the card provider this runtime's stages run on. */
    void awaitCards(Duration timeout) {
        String filter = "(" + CardProvider.PROVIDER + "=" + device + ")";
        awaitService(framework.getBundleContext(), CardProvider.class, filter, System.nanoTime() + timeout.toNanos(),
                "the " + device + " card provider");
    }

    private static List<Path> bundleJars() {
        String value = System.getProperty(BUNDLES_PROPERTY);
        if (value == null || value.isBlank()) {
            String missing = System.getProperty(BUNDLES_PROPERTY + ".missing", "");
            throw new ClusterException("this host has no card runtime: the framework that started the cluster lacks"
                    + " " + (missing.isBlank() ? "the runtime, device and scheduler bundles" : "the bundles "
                    + missing) + " (a host runs its stage on them); start the cluster from ./spanker");
        }
        List<Path> jars = new ArrayList<>();
        for (String entry : value.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                jars.add(Path.of(entry));
            }
        }
        return jars;
    }

    /** The api packages with the api jar's own versions, and the Vector API when this JVM has it. */
    static String systemPackages() {
        Manifest manifest = apiManifest();
        String exports = manifest.getMainAttributes().getValue(Constants.EXPORT_PACKAGE);
        if (exports == null || exports.isBlank()) {
            throw new ClusterException("the api jar on the node class path has no Export-Package header");
        }
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? exports + ",jdk.incubator.vector"
                : exports;
    }

    private static Manifest apiManifest() {
        try {
            Path path = Path.of(CardProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(path)) {
                try (InputStream in = Files.newInputStream(path.resolve(JarFile.MANIFEST_NAME))) {
                    return new Manifest(in);
                }
            }
            try (JarFile jar = new JarFile(path.toFile())) {
                return jar.getManifest();
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            throw new ClusterException("cannot read the api jar's manifest: " + e.getMessage());
        }
    }

    private static void installAndStart(BundleContext context, List<Path> jars, boolean sails)
            throws BundleException {
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : jars) {
            Bundle bundle = context.installBundle("reference:" + jar.toUri());
            // A host on Sails cards has no mock cards beside them, as the launcher's --device sails.
            if (sails && MOCK_BUNDLE.equals(bundle.getSymbolicName())) {
                bundle.uninstall();
                continue;
            }
            installed.add(bundle);
        }
        // infrastructure (SCR, Config Admin, libraries) first, so components see their configuration at once
        installed.sort(Comparator.comparing(b -> b.getSymbolicName() != null
                && b.getSymbolicName().startsWith("org.popsolutions.spanker.")));
        for (Bundle bundle : installed) {
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                bundle.start();
            }
        }
        if (sails && installed.stream().noneMatch(b -> SAILS_BUNDLE.equals(b.getSymbolicName()))) {
            throw new ClusterException("the host's card runtime has no " + SAILS_BUNDLE + " bundle for Sails cards");
        }
    }

    /** Runs a console command of the host's framework, one clear error if it fails. */
    private static void command(BundleContext context, String name, long deadline, String... arguments) {
        ConsoleCommand command = awaitService(context, ConsoleCommand.class, "(" + ConsoleCommand.NAME + "=" + name
                + ")", deadline, "the '" + name + "' command");
        CommandResult result = command.execute(List.of(arguments));
        if (result.failed()) {
            throw new ClusterException("'" + name + " " + String.join(" ", arguments) + "' on the host failed: "
                    + result.errorMessage());
        }
    }

    /**
     * The device bundle drives Sails cards when the framework asks for them ({@code spanker.device=sails}); it looks
     * for the fleet when it starts, so once the fleet runs it is started again and finds it in this framework's fleet
     * directory.
     */
    private static void restartSails(BundleContext context) throws BundleException {
        for (Bundle bundle : context.getBundles()) {
            if (SAILS_BUNDLE.equals(bundle.getSymbolicName())) {
                bundle.stop();
                bundle.start();
                return;
            }
        }
        throw new ClusterException("the host's card runtime has no " + SAILS_BUNDLE + " bundle for Sails cards");
    }

    private static <T> T awaitService(BundleContext context, Class<T> type, String filter, long deadline,
            String what) {
        while (true) {
            try {
                Collection<ServiceReference<T>> references = context.getServiceReferences(type, filter);
                ServiceReference<T> best = references.stream().max(Comparator.naturalOrder()).orElse(null);
                if (best != null) {
                    T service = context.getService(best);
                    if (service != null) {
                        return service;
                    }
                }
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException(e);
            }
            if (System.nanoTime() > deadline) {
                throw new ClusterException("the host's card runtime did not register " + what + " in time");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClusterException("interrupted while waiting for " + what);
            }
        }
    }

    /** Stops the host's fleet (its cards end) and the framework, and removes the framework's storage. */
    @Override
    public void close() {
        if (fleetStarted) {
            try {
                command(framework.getBundleContext(), "fleet", System.nanoTime() + 10_000_000_000L, "stop");
            } catch (RuntimeException e) {
                // The cards were started with --owner: they end with this process at the latest.
                System.err.println("host card runtime: " + e.getMessage());
            }
        }
        try {
            framework.stop();
            framework.waitForStop(10_000);
        } catch (BundleException | InterruptedException e) {
            // stopping is best effort; the storage goes below either way
        }
        try (Stream<Path> files = Files.walk(storage)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left in the cluster's run directory goes with it at 'cluster stop'
        }
    }
}
