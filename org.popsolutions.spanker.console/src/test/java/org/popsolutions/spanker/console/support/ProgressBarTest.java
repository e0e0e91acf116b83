package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void aLoadShowsBytesOfTheTotalTheRateAndTheTimeLeft() {
        String line = ProgressBar.line("loading", 310_000_000L, 620_000_000L, 3_100_000_000L, true);
        assertEquals("loading [###############...............] 310.0/620.0 MB  100.0 MB/s  ETA 3.1 s", line);
        String done = ProgressBar.line("loading", 620_000_000L, 620_000_000L, 6_200_000_000L, true);
        assertEquals("loading [##############################] 620.0/620.0 MB  100.0 MB/s  done in 6.2 s", done);
    }

    @Test
    void workIsCountedInPercent() {
        assertEquals("synthesizing [#######.......................]  25%  ETA 3.0 s",
                ProgressBar.line("synthesizing", 1, 4, 1_000_000_000L, false));
    }

    @Test
    void jsonOrAPipeGetsNoBar() {
        ProgressBar bar = ProgressBar.ofBytes("loading", true);
        assertFalse(bar.visible(), "never in --json");
        bar.update(1, 2);
        bar.close();
        // the test JVM's streams are not a terminal (surefire pipes them)
        assertFalse(ProgressBar.ofBytes("loading", false).visible());
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAtMostEveryTenthOfASecondAndEndsOnce() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "loading", true,
                System.nanoTime());
        bar.update(1_000_000, 10_000_000);
        bar.update(2_000_000, 10_000_000); // right after the first: not redrawn
        bar.update(10_000_000, 10_000_000); // complete: always drawn, then the line ends
        bar.update(10_000_000, 10_000_000);
        bar.close();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(2, out.chars().filter(c -> c == '\r').count(), out);
        assertTrue(out.contains("1.0/10.0 MB") && out.contains("10.0/10.0 MB") && !out.contains("2.0/10.0 MB"), out);
        assertTrue(out.endsWith(System.lineSeparator()) && out.indexOf('\n') == out.length() - 1, out);
    }
}
