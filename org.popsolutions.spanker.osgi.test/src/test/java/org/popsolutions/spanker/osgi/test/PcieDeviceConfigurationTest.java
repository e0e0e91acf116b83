package org.popsolutions.spanker.osgi.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.compute.DeviceTrace;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.api.topology.Card;
import org.popsolutions.spanker.api.topology.SailDevice;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyService;

/**
 * The pcie device provider in Felix: configured (Config Admin) with the directory of a mounted FUSE driver double
 * speaking ABI 0.2, it registers the double's cards and the topology shows them; a card's matmul runs through the
 * JNI binding and the kernel into the double and gives the same OUT bytes and trace as a mock card's.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class PcieDeviceConfigurationTest {
    static final String PCIE_PID = "org.popsolutions.spanker.driver.pcie";

    @InjectBundleContext
    BundleContext context;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    ConfigurationAdmin configurationAdmin;

    @InjectService(timeout = Eventually.TIMEOUT_MILLIS)
    TopologyService topologyService;

    @Test
    void configuredPcieCardsJoinTheTopologyAndComputeLikeTheMockCards() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse: cannot mount the driver double");
        Path binary = Path.of(context.getProperty("spanker.driver.double"));
        assertTrue(Files.isExecutable(binary), binary + " (built by the driver.native module)");
        Path mountPoint = Files.createTempDirectory("spanker-dev");
        Process driver = new ProcessBuilder(binary.toString(), "--version", "0.2.0", "--cards", "2",
                mountPoint.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String first = new BufferedReader(new InputStreamReader(driver.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            assertEquals("mounted " + mountPoint, first);
            byte[][] operands = operands(2, 512, 3);

            // only the pcie cards: no mock cards
            Configurations.update(configurationAdmin, Configurations.MOCK_DEVICE_PID, Map.of("cards", 0));
            Configurations.update(configurationAdmin, PCIE_PID, Map.of("devDirectory", mountPoint.toString(),
                    "kind", "RING"));
            Eventually.until("the two pcie cards", () -> providers().equals(List.of("pcie", "pcie")),
                    this::describeTopology);
            Topology topology = topologyService.current();
            assertEquals(List.of(mountPoint.resolve("spanker0").toString(), mountPoint.resolve("spanker1").toString()),
                    topology.cards().stream().map(Card::name).toList());
            assertEquals(2, topology.links().size(), "a ring of two: one link each way");
            Result pcie = matmulOnCard("pcie", operands);

            Configurations.deleteAll(configurationAdmin, PCIE_PID);
            Configurations.deleteAll(configurationAdmin, Configurations.MOCK_DEVICE_PID);
            Eventually.until("back to the four mock cards", () -> providers().equals(List.of("mock", "mock", "mock",
                    "mock")), this::describeTopology);
            Result mock = matmulOnCard("mock", operands);

            assertArrayEquals(mock.out(), pcie.out(), "OUT bytes of a pcie card (ABI 0.2 double) and a mock card");
            assertEquals(mock.trace(), pcie.trace(), "the original's four transactions on both");
        } finally {
            Configurations.deleteAll(configurationAdmin, PCIE_PID);
            Configurations.deleteAll(configurationAdmin, Configurations.MOCK_DEVICE_PID);
            new ProcessBuilder("fusermount3", "-u", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
            if (!driver.waitFor(10, TimeUnit.SECONDS)) {
                driver.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                new ProcessBuilder("fusermount3", "-uz", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(mountPoint);
        }
    }

    record Result(byte[] out, List<?> trace) {
    }

    private Result matmulOnCard(String provider, byte[][] operands) throws Exception {
        Collection<ServiceReference<MatmulInt4>> references = context.getServiceReferences(MatmulInt4.class,
                "(&(" + SailDevice.PROVIDER + "=" + provider + ")(" + SailDevice.CARD_INDEX + "=0))");
        assertEquals(1, references.size(), "card 0 of " + provider);
        ServiceReference<MatmulInt4> reference = references.iterator().next();
        MatmulInt4 matmul = context.getService(reference);
        try {
            ((DeviceTrace) matmul).clear();
            ByteBuffer out = ByteBuffer.allocate(2 * 3 * 4);
            matmul.matmul(Int4Format.Q4_K, 2, 512, 3, ByteBuffer.wrap(operands[0]), ByteBuffer.wrap(operands[1]), out);
            return new Result(out.array(), ((DeviceTrace) matmul).transactions());
        } finally {
            context.ungetService(reference);
        }
    }

    /** Random Q4_K rows (A: m rows, B: n rows) whose fp16 scales are positive normal numbers. */
    private static byte[][] operands(int m, int k, int n) {
        Random random = new Random(10);
        byte[][] operands = {new byte[m * (k / 256) * 144], new byte[n * (k / 256) * 144]};
        for (byte[] operand : operands) {
            random.nextBytes(operand);
            for (int block = 0; block < operand.length; block += 144) {
                for (int scale = 0; scale < 4; scale += 2) {
                    int half = 0x2000 + random.nextInt(0x1000); // about 0.008 to 0.06
                    operand[block + scale] = (byte) half;
                    operand[block + scale + 1] = (byte) (half >>> 8);
                }
            }
        }
        return operands;
    }

    private List<String> providers() {
        try {
            List<String> providers = new ArrayList<>();
            topologyService.current().cards().forEach(card -> providers.add(card.provider()));
            return providers;
        } catch (SpankerException e) {
            return List.of();
        }
    }

    private String describeTopology() {
        try {
            return topologyService.current().cards().toString();
        } catch (SpankerException e) {
            return e.getMessage();
        }
    }
}
