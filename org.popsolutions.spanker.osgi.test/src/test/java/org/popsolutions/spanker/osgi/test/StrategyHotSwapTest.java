package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceReference;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.strategy.PartitionStrategy;

/**
 * Hot swap: consumers hold the partition strategy through a dynamic greedy reference, so installing a second
 * provider bundle with a higher service.ranking changes their decisions at once, without restarting them, and
 * uninstalling it brings the first provider back.
 *
 * <p>The consumer observed is the {@code pick} console command. The second provider is a real bundle (this module's
 * main artifact, {@code ReplicateStrategy}, ranking 100, always "Replicate"), installed from the path the bndrun
 * passes as the framework property {@value #PROVIDER_PROPERTY}.
 */
@ExtendWith(BundleContextExtension.class)
class StrategyHotSwapTest {
    static final String PROVIDER_PROPERTY = "spanker.test.replicate.bundle";
    static final String[] REFERENCE_TILE = {"--m", "1", "--n", "5632", "--k", "2048", "--bpe", "2", "--cards", "4"};

    @InjectBundleContext
    BundleContext context;

    private Bundle provider;

    @AfterEach
    void uninstallTheSecondProvider() throws BundleException {
        if (provider != null && provider.getState() != Bundle.UNINSTALLED) {
            provider.uninstall();
        }
    }

    @Test
    void theBandwidthStrategyIsActiveByDefault() {
        Eventually.until("the bandwidth strategy is the best ranked", () -> "bandwidth".equals(bestRankedStrategy()),
                this::bestRankedStrategy);
        Eventually.until("registered: pick", () -> !Commands.named(context, "pick").isEmpty(), () -> "no pick");
        String decision = pickReferenceTile();
        assertAll(() -> assertTrue(decision.contains("\"strategy\":\"ModelParallel\""), decision),
                () -> assertTrue(decision.contains("\"decidedBy\":\"bandwidth\""), decision));
        String strategies = Commands.json(Commands.command(context, "strategy"));
        assertTrue(strategies.contains("\"active\":\"bandwidth\""), strategies);
    }

    @Test
    void aHigherRankedProviderBundleTakesOverWithoutRestartAndUninstallingItRestoresTheFirst() throws Exception {
        Eventually.until("registered: pick", () -> !Commands.named(context, "pick").isEmpty(), () -> "no pick");
        ConsoleCommand pickBefore = Commands.command(context, "pick");
        Eventually.until("decided by bandwidth", () -> pickReferenceTile().contains("\"decidedBy\":\"bandwidth\""),
                this::pickReferenceTile);

        provider = installProvider();
        provider.start();

        Eventually.until("decided by the new provider", () -> pickReferenceTile().contains("\"decidedBy\":\"replicate\""),
                this::pickReferenceTile);
        String swapped = pickReferenceTile();
        String strategies = Commands.json(Commands.command(context, "strategy"));
        assertAll(() -> assertTrue(swapped.contains("\"strategy\":\"Replicate\""), swapped),
                () -> assertTrue(strategies.contains("\"active\":\"replicate\""), strategies),
                // The same component instance answered before and after: the reference was rebound, not restarted.
                () -> assertSame(pickBefore, Commands.command(context, "pick"), "pick was restarted by the swap"));

        provider.uninstall();

        Eventually.until("decided by bandwidth again", () -> pickReferenceTile().contains("\"decidedBy\":\"bandwidth\""),
                this::pickReferenceTile);
        String restored = pickReferenceTile();
        assertAll(() -> assertTrue(restored.contains("\"strategy\":\"ModelParallel\""), restored),
                () -> assertSame(pickBefore, Commands.command(context, "pick"), "pick was restarted by the uninstall"),
                () -> assertEquals("bandwidth", bestRankedStrategy()));
    }

    @Test
    void stoppingTheSecondProviderAlsoRestoresTheFirst() throws Exception {
        provider = installProvider();
        provider.start();
        Eventually.until("the new provider is the best ranked", () -> "replicate".equals(bestRankedStrategy()),
                this::bestRankedStrategy);

        provider.stop();

        Eventually.until("decided by bandwidth again", () -> pickReferenceTile().contains("\"decidedBy\":\"bandwidth\""),
                this::pickReferenceTile);
    }

    private Bundle installProvider() throws BundleException {
        String path = context.getProperty(PROVIDER_PROPERTY);
        assertNotNull(path, "framework property " + PROVIDER_PROPERTY + " (set by the bndrun) is missing");
        File jar = new File(path);
        assertTrue(jar.isFile(), "the provider bundle " + jar + " has not been built");
        return context.installBundle(jar.toURI().toString());
    }

    private String pickReferenceTile() {
        return Commands.json(Commands.command(context, "pick"), REFERENCE_TILE);
    }

    private String bestRankedStrategy() {
        ServiceReference<PartitionStrategy> best = context.getServiceReference(PartitionStrategy.class);
        return best == null ? null : String.valueOf(best.getProperty(PartitionStrategy.NAME));
    }
}
