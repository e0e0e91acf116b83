package org.popsolutions.spanker.device.sails;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
     * A fleet whose host link is dilated apart from its cards (fleet start --host-link-dilation 1 on cards dilated x16)
     * has its NIC paced at the host link's K, not the cards': else a 7B's load crawls at 100 MB/s / 16 while the
     * cards take it at 100 MB/s. The fleet file carries it; a file from before it existed reads as the cards' K.
     */
    @Test
    void aFleetWithItsOwnHostLinkDilationPacesTheNicByIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Files.writeString(dir.resolve(Fleet.STATE_FILE), "{\"kind\": \"RING\", \"unshaped\": false,"
                + " \"memoryBytes\": 1024, \"secretFile\": \"s\", \"cards\": [], \"hostLinkDilation\": 1.0}");
        Fleet.State own = Fleet.read(dir).orElseThrow();
        assertEquals(1.0, SailsDevice.hostNicDilation(own.hostLinkDilation(), 16));
        java.nio.file.Files.writeString(dir.resolve(Fleet.STATE_FILE), "{\"kind\": \"RING\", \"unshaped\": false,"
                + " \"memoryBytes\": 1024, \"secretFile\": \"s\", \"cards\": []}");
        Fleet.State older = Fleet.read(dir).orElseThrow();
        assertEquals(16.0, SailsDevice.hostNicDilation(older.hostLinkDilation(), 16));
        assertEquals(16.0, (double) load(LinkParameters.REV_A, SailsDevice.hostNicDilation(0, 16), 2)
                / load(LinkParameters.REV_A, SailsDevice.hostNicDilation(1, 16), 2), 1e-6);
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
