package org.popsolutions.spanker.card.emulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.protocol.Handshake;

/**
 * Time dilation: a card started with {@code --dilation K} runs every modelled time K times slower than rev-A, on its
 * own clock (the modelled deadlines are asserted, not the wall clock), and refuses a K that is not one.
 */
class TimeDilationTest {
    @TempDir
    Path dir;

    private EmulatorOptions options(String... extra) throws IOException {
        Path secret = dir.resolve("secret");
        Files.writeString(secret, java.util.HexFormat.of().formatHex(Handshake.newSecret()));
        List<String> args = new ArrayList<>(List.of("--secret-file", secret.toString()));
        args.addAll(List.of(extra));
        return EmulatorOptions.parse(args);
    }

    /** The modelled time of one program streaming 200 MB of weights and reducing 6.67 MB. */
    private static long modelledNanos(EmulatorOptions options) {
        CardClock clock = new CardClock(options);
        clock.startProgram();
        clock.streamed(200_000_000L);
        clock.reduced(6_670_000L);
        return clock.modelledNanos();
    }

    @Test
    void aCardDilatedFourTimesModelsFourTimesTheRevATimeOnItsOwnClock() throws IOException {
        long undilated = modelledNanos(options());
        long dilated = modelledNanos(options("--dilation", "4"));
        // 200 MB at 2 GB/s + 6.67 MB at 667 MB/s = 100 ms + 10 ms at rev-A pace
        assertEquals(110e6, undilated, 1e3);
        assertEquals(4 * 110e6, dilated, 4e3);
        assertEquals(1.0, options().timeDilation());
        assertEquals(2.5, options("--dilation", "2.5").timeDilation());
    }

    @Test
    void everyModelledRateAndLatencyIsDilatedByTheSameFactor() throws IOException {
        EmulatorOptions o = options("--dilation", "8", "--host-link-bps", "1e8", "--link-latency", "1e-6");
        assertEquals(1e8 / 8, o.dilatedRate(o.hostLinkBytesPerSecond()));
        assertEquals(8e-6, o.dilatedSeconds(o.linkLatencySeconds()), 1e-18);
        assertEquals(EmulatorOptions.REV_A_LINK_PAYLOAD / 8, o.dilatedRate(o.linkBytesPerSecond()), 1e-6);
        assertEquals(2e9 / 8, o.dilatedRate(o.ddrBytesPerSecond()));
        assertEquals(667e6 / 8, o.dilatedRate(o.reduceBytesPerSecond()));
        assertEquals(400e-6, o.dilatedSeconds(o.hostLinkLatencySeconds()), 1e-15);
        // the receive timeout is card time too (ops take K times longer), within 5 minutes of real time
        assertEquals(80_000, o.dilatedReceiveTimeoutMillis());
        assertEquals(300_000, options("--dilation", "256").dilatedReceiveTimeoutMillis());
        assertEquals(10_000, options().dilatedReceiveTimeoutMillis());
        assertEquals(1_000, options("--receive-timeout-ms", "1000").dilatedReceiveTimeoutMillis());
    }

    @Test
    void aDilationThatIsNotANumberAtLeastOneIsRefusedInOneLine() {
        for (String bad : List.of("0", "-4", "0.5", "1e9", "1001", "NaN", "Infinity", "four", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> options("--dilation",
                    bad), bad);
            assertTrue(e.getMessage().startsWith("--dilation"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
