package org.popsolutions.spanker.plot.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.Series;

class SvgChartWriterTest {
    private static final List<Chart> CHARTS = List.of(
            new Chart("busbw", "size (bytes)", "GB/s", List.of(
                    new Series("ring", new double[] {8, 64, 512}, new double[] {0.01, 0.05, 0.2}, false),
                    new Series("ring (predicted)", new double[] {8, 64, 512}, new double[] {0.02, 0.1, 0.3}, true))),
            new Chart("time", "size (bytes)", "seconds", List.of(
                    new Series("ring", new double[] {8, 64, 512}, new double[] {1e-5, 2e-5, 4e-5}, false))));

    @Test
    void writesOneWellFormedSvgWithEveryChartAndSeriesAndNoTemporaryFileLeft(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("sweep.svg");
        new SvgChartWriter().writeSvg(CHARTS, file);
        String svg = Files.readString(file);
        DocumentBuilderFactory xml = DocumentBuilderFactory.newInstance();
        // well-formed is the point; the SVG DTD on w3.org is not fetched
        xml.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        xml.newDocumentBuilder().parse(file.toFile());
        assertTrue(svg.startsWith("<svg") || svg.startsWith("<?xml"), svg.substring(0, 40));
        assertTrue(svg.contains("busbw") && svg.contains("time"), "both titles");
        assertTrue(svg.contains("ring (predicted)"), "the legend names the predicted series");
        assertTrue(svg.matches("(?s).*<svg[^>]*height=['\"]" + 2 * SvgChartWriter.CHART_HEIGHT + "(\\.0)?['\"].*"),
                "two charts stacked: " + svg.substring(0, Math.min(400, svg.length())));
        try (Stream<Path> left = Files.list(directory)) {
            assertEquals(List.of(file), left.toList());
        }
    }

    @Test
    void anUnwritableTargetIsADeviceErrorNamingTheFileAndNothingIsLeftBehind(@TempDir Path directory) throws IOException {
        Path missing = directory.resolve("no-such-directory").resolve("sweep.svg");
        DeviceException error = assertThrows(DeviceException.class, () -> new SvgChartWriter().writeSvg(CHARTS, missing));
        assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
        try (Stream<Path> left = Files.list(directory)) {
            assertEquals(0, left.count());
        }
    }
}
