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
        // without a terminal, or on one that is not interactive
        assertFalse(ProgressBar.ofBytes("loading", false).visible());
        assertFalse(ProgressBar.ofBytes("loading", null, false).visible());
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceAtMostEveryTenthOfASecondAndEndsOnce() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ProgressBar bar = new ProgressBar(new java.io.PrintWriter(new java.io.OutputStreamWriter(bytes,
                StandardCharsets.UTF_8), true), 0, "loading", true, () -> now[0]);
        bar.update(1_000_000, 10_000_000);
        now[0] += 50_000_000L;
        bar.update(2_000_000, 10_000_000); // 50 ms after the first: not redrawn
        now[0] += 100_000_000L;
        bar.update(3_000_000, 10_000_000); // 150 ms after it: redrawn, 2 MB in 150 ms
        now[0] += 10_000_000L;
        bar.update(10_000_000, 10_000_000); // complete: always drawn, then the line ends
        bar.update(10_000_000, 10_000_000);
        bar.close();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, out.chars().filter(c -> c == '\r').count(), out);
        assertTrue(out.contains("1.0/10.0 MB") && out.contains("10.0/10.0 MB") && !out.contains("2.0/10.0 MB"), out);
        assertTrue(out.contains("3.0/10.0 MB  13.3 MB/s  ETA 0.5 s"), out);
        assertTrue(out.endsWith(System.lineSeparator()) && out.indexOf('\n') == out.length() - 1, out);
    }
}
