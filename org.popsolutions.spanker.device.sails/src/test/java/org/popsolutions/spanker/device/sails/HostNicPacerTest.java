package org.popsolutions.spanker.device.sails;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.link.HostNic;
import org.popsolutions.spanker.api.link.LinkParameters;

/** The host's NIC pacer on a clock of the test's own: no wall time, no flakes. */
class HostNicPacerTest {
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS = 40;

    /** A clock that only moves when the pacer sleeps: each sleeping card's thread resumes at its slot. */
    private static final class TestClock {
        final AtomicLong now = new AtomicLong();

        HostNicPacer pacer(LinkParameters p, double dilation) {
            return new HostNicPacer(() -> p, dilation, now::get, until -> now.accumulateAndGet(until, Math::max));
        }
    }

    /**
     * Cards loading together, chunk by chunk in turn as their loader threads would: returns the nanoseconds until
     * the last chunk has crossed the NIC or, per card, its own port (each card's port paces it at the same rate
     * from the chunk's first byte, as the emulator does).
     */
    private static long load(LinkParameters p, double dilation, int cards) {
        TestClock clock = new TestClock();
        HostNicPacer nic = clock.pacer(p, dilation);
        long perChunk = (long) (CHUNK / (p.hostLinkBytesPerSecond() / dilation) * 1e9);
        long[] portFree = new long[cards];
        long end = 0;
        for (int i = 0; i < CHUNKS; i++) {
            for (int c = 0; c < cards; c++) {
                long leaves = nic.reserve(CHUNK);
                portFree[c] = Math.max(leaves, portFree[c]) + perChunk;
                end = Math.max(end, portFree[c]);
            }
        }
        return end;
    }

    @Test
    void twoCardsBehindOneSharedNicTakeTwiceAsLongAsOne() {
        LinkParameters shared = LinkParameters.REV_A;
        long one = load(shared, 1, 1);
        long two = load(shared, 1, 2);
        assertEquals(2.0, (double) two / one, 1e-6);
        // and exactly what the planner predicts for the load, less the one latency the card's port adds
        long bytes = (long) CHUNK * CHUNKS;
        assertEquals(shared.loadSeconds(bytes, bytes) - shared.hostLinkLatencySeconds(), two / 1e9, 1e-6);
        assertEquals(shared.loadSeconds(bytes) - shared.hostLinkLatencySeconds(), one / 1e9, 1e-6);
    }

    @Test
    void withANicPerCardTheCardsLoadSideBySide() {
        LinkParameters perCard = LinkParameters.REV_A.withHostNic(HostNic.PER_CARD);
        long one = load(perCard, 1, 1);
        long four = load(perCard, 1, 4);
        assertEquals(one, four);
        long bytes = (long) CHUNK * CHUNKS;
        assertEquals(perCard.loadSeconds(bytes, bytes, bytes, bytes) - perCard.hostLinkLatencySeconds(), four / 1e9,
                1e-6);
    }

    /**
     * The host link's pace comes from the cards (HELLO_REPLY 1.3), no longer from the fleet file: a session-6 file
     * that still carries {@code hostLinkDilation} reads as before, the field ignored.
     */
    @Test
    void aSession6FleetFileWithItsHostLinkDilationStillReads(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve(Fleet.STATE_FILE), "{\"kind\": \"RING\", \"unshaped\": false,"
                + " \"memoryBytes\": 1024, \"secretFile\": \"s\", \"cards\": [], \"hostLinkDilation\": 1.0}");
        Fleet.State older = Fleet.read(dir).orElseThrow();
        assertEquals(1024, older.memoryBytes());
        assertEquals(List.of(), older.cards());
    }

    @Test
    void aDilatedFleetsNicRunsKTimesSlower() {
        assertEquals(16.0, (double) load(LinkParameters.REV_A, 16, 2) / load(LinkParameters.REV_A, 1, 2), 1e-6);
    }

    @Test
    void theSettingIsReadAtEveryChunkSoAReconfiguredModelIsFollowedAtOnce() {
        AtomicLong now = new AtomicLong();
        LinkParameters[] current = {LinkParameters.REV_A};
        HostNicPacer nic = new HostNicPacer(() -> current[0], 1, now::get, until -> { });
        assertEquals(0, nic.reserve(CHUNK));
        long slot = nic.reserve(CHUNK);
        assertEquals((long) (CHUNK / 100e6 * 1e9), slot, "the second chunk waits for the first on the shared NIC");
        current[0] = LinkParameters.REV_A.withHostNic(HostNic.PER_CARD);
        assertEquals(0, nic.reserve(CHUNK), "a NIC per card: no wait on the host");
    }

    @Test
    void aDilationBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HostNicPacer(() -> LinkParameters.REV_A, 0.5));
    }
}
