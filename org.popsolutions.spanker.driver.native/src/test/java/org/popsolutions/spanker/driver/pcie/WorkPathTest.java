package org.popsolutions.spanker.driver.pcie;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.BadDimsException;
import org.popsolutions.spanker.api.DriverException;
import org.popsolutions.spanker.api.NotImplementedException;
import org.popsolutions.spanker.api.OutputTooSmallException;
import org.popsolutions.spanker.api.SpankerException;
import org.popsolutions.spanker.api.compute.DeviceTransaction;
import org.popsolutions.spanker.api.compute.Int4Format;
import org.popsolutions.spanker.api.compute.MatmulInt4;
import org.popsolutions.spanker.driver.jni.CardNode;
import org.popsolutions.spanker.driver.jni.DriverStatus;
import org.popsolutions.spanker.driver.jni.DriverVersion;
import org.popsolutions.spanker.driver.jni.FuseDouble;
import org.popsolutions.spanker.driver.jni.WorkCompletion;
import org.popsolutions.spanker.driver.jni.WorkItem;
import org.popsolutions.spanker.ggml.kernel.CpuMatmulInt4;
import org.popsolutions.spanker.ggml.kernel.Kernels;
import org.popsolutions.spanker.ggml.quant.Q4_0Format;
import org.popsolutions.spanker.ggml.quant.Q4_KFormat;

/**
 * ABI 0.2 end to end: the MatmulInt4 contract through JNI → kernel → the FUSE double's Q4_K kernel in C, against
 * the host matmul the mock cards compute with (ggml's CpuMatmulInt4): the same OUT bytes, the same error order.
 */
class WorkPathTest {
    @TempDir
    static Path temp;
    static FuseDouble driver;
    static PcieMatmul card;
    /** What the mock cards delegate to (MockMatmul → the host's MatmulInt4 service). */
    static final MatmulInt4 HOST = new CpuMatmulInt4(Kernels.scalar(), 1);

    @BeforeAll
    static void mount() throws Exception {
        driver = FuseDouble.mount(temp, "--version", "0.2.0", "--cards", "2", "--ddr", String.valueOf(4 << 20));
        DriverStatus status = DriverStatus.probe(driver.directory());
        assertEquals(new DriverVersion(0, 2, 0), status.version());
        card = new PcieMatmul(status.cards().get(1), status.version());
    }

    @AfterAll
    static void unmount() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void aQ4KMatmulGivesTheHostsOutBytesAndTheOriginalTrace() {
        card.clear();
        Operands operands = Operands.random(Int4Format.Q4_K, 3, 512, 5, 1);
        assertArrayEquals(operands.run(HOST), operands.run(card));
        // A = 3·2·144 = 864 bytes, B = 1440, OUT = 60: the original's four transactions at its addresses
        assertEquals(List.of(DeviceTransaction.write(0x10000, 864), DeviceTransaction.write(0x20000, 1440),
                DeviceTransaction.submit(0x4000, 3, 512, 5), DeviceTransaction.read(0x30000, 60)),
                card.transactions());
    }

    @Test
    void operandsBeyondTheOriginalSlotsMoveUpAndStillMatchTheHost() {
        card.clear();
        // A = 130·4·144 = 74 880 bytes: larger than the 64 KiB between A and B in the original trace
        Operands operands = Operands.random(Int4Format.Q4_K, 130, 1024, 33, 2);
        assertArrayEquals(operands.run(HOST), operands.run(card));
        List<DeviceTransaction> trace = card.transactions();
        assertEquals(DeviceTransaction.write(0x10000, 74_880), trace.get(0));
        assertEquals(DeviceTransaction.write(0x10000 + 74_880, 33 * 4 * 144), trace.get(1));
        assertEquals(DeviceTransaction.submit(0x4000, 130, 1024, 33), trace.get(2));
    }

    @Test
    void aQ4_0MatmulGivesTheHostsOutBytes() {
        Operands operands = Operands.random(Int4Format.Q4_0, 7, 96, 4, 3);
        assertArrayEquals(operands.run(HOST), operands.run(card));
    }

    @Test
    void outIsWrittenFromItsPositionAndOperandsAreReadFromTheirs() {
        Operands operands = Operands.random(Int4Format.Q4_K, 2, 256, 2, 4);
        ByteBuffer a = ByteBuffer.allocate(operands.a.length + 3).position(3);
        a.duplicate().put(operands.a);
        ByteBuffer out = ByteBuffer.allocate(16 + 7).position(7);
        card.matmul(Int4Format.Q4_K, 2, 256, 2, a, ByteBuffer.wrap(operands.b), out);
        assertEquals(7, out.position());
        byte[] written = new byte[16];
        out.duplicate().get(written);
        assertArrayEquals(operands.run(HOST), written);
    }

    @Test
    void errorsComeInTheContractsOrderLikeTheHosts() {
        card.clear();
        byte[] block = new byte[144];
        // bad k wins over everything else, then the operand lengths, then OUT
        sameError(BadDimsException.class, m -> m.matmul(Int4Format.Q4_K, 1, 100, 1, ByteBuffer.allocate(0),
                ByteBuffer.allocate(0), ByteBuffer.allocate(0)));
        sameError(BadDimsException.class, m -> m.matmul(Int4Format.Q4_K, 1, 0, 1, ByteBuffer.wrap(block),
                ByteBuffer.wrap(block), ByteBuffer.allocate(4)));
        sameError(BadDimsException.class, m -> m.matmul(Int4Format.Q4_K, 1, 256, 1, ByteBuffer.allocate(143),
                ByteBuffer.wrap(block), ByteBuffer.allocate(0)));
        sameError(BadDimsException.class, m -> m.matmul(Int4Format.Q4_K, Long.MAX_VALUE, 256, 2,
                ByteBuffer.wrap(block), ByteBuffer.wrap(block), ByteBuffer.allocate(4)));
        OutputTooSmallException host = sameError(OutputTooSmallException.class, m -> m.matmul(Int4Format.Q4_K, 1, 256,
                1, ByteBuffer.wrap(block), ByteBuffer.wrap(block), ByteBuffer.allocate(3)));
        OutputTooSmallException ours = assertThrows(OutputTooSmallException.class, () -> card.matmul(Int4Format.Q4_K,
                1, 256, 1, ByteBuffer.wrap(block), ByteBuffer.wrap(block), ByteBuffer.allocate(3)));
        assertEquals(host.have(), ours.have());
        assertEquals(host.need(), ours.need());
        // m = 0 or n = 0: checked, then nothing moves
        card.matmul(Int4Format.Q4_K, 0, 256, 1, ByteBuffer.allocate(0), ByteBuffer.wrap(block), ByteBuffer.allocate(0));
        card.matmul(Int4Format.Q4_K, 1, 256, 0, ByteBuffer.wrap(block), ByteBuffer.allocate(0), ByteBuffer.allocate(0));
        assertEquals(List.of(), card.transactions(), "refused and empty matmuls leave no trace");
    }

    @Test
    void theCardChecksADescriptorItselfWhenUserspaceDoesNot() {
        try (CardNode node = CardNode.open(driver.directory().resolve("spanker0"))) {
            WorkCompletion badK = node.await(node.submit(new WorkItem(WorkItem.Operation.MATMUL_Q4_K, 1, 100, 1,
                    0x10000, 0x20000, 0x30000)));
            assertEquals(WorkCompletion.STATUS_BAD_DIMS, badK.status());
            WorkCompletion pastDdr = node.await(node.submit(new WorkItem(WorkItem.Operation.MATMUL_Q4_K, 1, 256, 1,
                    0x10000, 0x20000, (4 << 20) - 2)));
            assertEquals(WorkCompletion.STATUS_OUT_OF_RANGE, pastDdr.status());
            // the driver put the last descriptor into the card's command FIFO at 0x4000
            byte[] fifo = new byte[64];
            node.read(0x4000, fifo, 0, 64);
            ByteBuffer descriptor = ByteBuffer.wrap(fifo).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(1, descriptor.getInt(0));
            assertEquals(256, descriptor.getLong(16));
            assertEquals((4 << 20) - 2, descriptor.getLong(48));
            DriverException pastEnd = assertThrows(DriverException.class,
                    () -> node.write((4 << 20) - 1, new byte[2], 0, 2));
            assertEquals(DriverException.Reason.WORK_FAILED, pastEnd.reason());
        }
    }

    @Test
    void aVersion01DriverHasNoWorkPathAndSaysWhatIsMissing() throws Exception {
        try (FuseDouble old = FuseDouble.mount(temp, "--version", "0.1.0")) {
            DriverStatus status = DriverStatus.probe(old.directory());
            PcieMatmul oldCard = new PcieMatmul(status.cards().get(0), status.version());
            Operands operands = Operands.random(Int4Format.Q4_K, 1, 256, 1, 5);
            NotImplementedException e = assertThrows(NotImplementedException.class, () -> operands.run(oldCard));
            assertTrue(e.getMessage().contains("ABI 0.1.0, which has no work submission"), e.getMessage());
            assertTrue(e.getMessage().contains("SPANKER_IOC_WORK_SUBMIT"), e.getMessage());
        }
    }

    private interface Call {
        void on(MatmulInt4 matmul);
    }

    /** Both the host and the card refuse the call with {@code type}; returns the host's exception. */
    private static <E extends SpankerException> E sameError(Class<E> type, Call call) {
        E host = assertThrows(type, () -> call.on(HOST));
        Executable onCard = () -> call.on(card);
        assertThrows(type, onCard);
        return host;
    }

    /** Random operands quantized with the project's ggml quantizers. */
    record Operands(Int4Format format, long m, long k, long n, byte[] a, byte[] b) {
        static Operands random(Int4Format format, int m, int k, int n, long seed) {
            Random random = new Random(seed);
            return new Operands(format, m, k, n, quantized(format, m, k, random), quantized(format, n, k, random));
        }

        private static byte[] quantized(Int4Format format, int rows, int k, Random random) {
            float[] values = new float[rows * k];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) MatmulInt4.operandBytes(format, rows, k))
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (format.equals(Int4Format.Q4_K)) {
                new Q4_KFormat().quantize(values, 0, bytes, 0, values.length);
            } else {
                new Q4_0Format().quantize(values, 0, bytes, 0, values.length);
            }
            return bytes.array();
        }

        byte[] run(MatmulInt4 matmul) {
            ByteBuffer out = ByteBuffer.allocate((int) MatmulInt4.outputBytes(m, n));
            matmul.matmul(format, m, k, n, ByteBuffer.wrap(a), ByteBuffer.wrap(b), out);
            return out.array();
        }
    }
}
