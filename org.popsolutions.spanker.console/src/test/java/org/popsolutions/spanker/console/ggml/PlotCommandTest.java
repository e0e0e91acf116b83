package org.popsolutions.spanker.console.ggml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.ChartWriter;
import org.popsolutions.spanker.api.plot.Series;
import org.popsolutions.spanker.plot.internal.SvgChartWriter;
import org.w3c.dom.Document;

/** {@code plot}: a benchmark's JSON rows drawn as charts, and the SVGs committed in docs/plots are valid XML. */
class PlotCommandTest {
    @TempDir
    Path dir;

    static final String KERNELS = """
            {"cells": [
              {"jdk": "17", "threads": 1, "type": "Q4_0", "ggmlMicros": 6565.8,
               "providers": {"java": {"micros": 15491.0}, "native": {"micros": 5397.0}}},
              {"jdk": "17", "threads": 2, "type": "Q4_0", "ggmlMicros": 3600.1,
               "providers": {"java": {"micros": 8000.5}, "native": {"micros": 2900.0}}},
              {"jdk": "25", "threads": 1, "type": "Q4_0", "ggmlMicros": 6537.6,
               "providers": {"java": {"micros": 10581.7}, "native": {"micros": 6032.4}}},
              {"jdk": "17", "threads": 1, "type": "Q8_0", "ggmlMicros": 9000.0,
               "providers": {"java": {"micros": null}, "native": {"micros": 8000.0}}}
            ]}
            """;

    static PlotCommand plot(ChartWriter writer) {
        PlotCommand plot = new PlotCommand();
        plot.charts = writer;
        return plot;
    }

    static ChartWriter capturing(List<Chart> into) {
        return new ChartWriter() {
            @Override
            public void writeSvg(List<Chart> charts, Path file) {
                into.addAll(charts);
            }

            @Override
            public String svg(List<Chart> charts) {
                return "";
            }
        };
    }

    @Test
    void rowsBecomeOneLinePerGroupAndFieldOneChartPerSplitValue() throws IOException {
        Path data = Files.writeString(dir.resolve("kernels.json"), KERNELS);
        List<Chart> charts = new ArrayList<>();
        CommandResult result = plot(capturing(charts)).execute(List.of("--data", data.toString(), "--rows", "cells",
                "--x", "threads", "--y", "java=providers.java.micros,native=providers.native.micros",
                "--predicted", "ggml=ggmlMicros", "--series", "jdk", "--split", "type", "--title", "matvec",
                "--out", dir.resolve("k.svg").toString(), "--json"));
        assertFalse(result.failed(), result.errorMessage());
        assertEquals(2, charts.size());
        assertEquals("matvec (type Q4_0)", charts.get(0).title());
        Series java17 = charts.get(0).series().stream().filter(s -> s.name().equals("17 java")).findFirst()
                .orElseThrow();
        assertEquals(List.of(1.0, 2.0), List.of(java17.x()[0], java17.x()[1]));
        assertEquals(List.of(15491.0, 8000.5), List.of(java17.y()[0], java17.y()[1]));
        assertFalse(java17.predicted());
        assertTrue(charts.get(0).series().stream().anyMatch(s -> s.name().equals("17 ggml (predicted)") && s.predicted()));
        // the Q8_0 row has no Java figure: its chart has native and ggml only
        assertEquals(List.of("17 native", "17 ggml (predicted)"), charts.get(1).series().stream().map(Series::name).toList());
    }

    @Test
    void jsonLinesWithAFilterDrawnAsValidSvg() throws Exception {
        Path data = Files.writeString(dir.resolve("rows.jsonl"), """
                {"kind": "decode", "cards": 1, "model": "tiny", "predicted": 0.0148, "measured": 0.0201}
                {"kind": "decode", "cards": 2, "model": "tiny", "predicted": 0.0076, "measured": 0.0273}
                {"kind": "collective", "size": 65536, "predicted": 0.000279, "measured": 0.011965}
                """);
        Path svg = dir.resolve("decode.svg");
        CommandResult result = plot(new SvgChartWriter()).execute(List.of("--data", data.toString(), "--where",
                "kind=decode", "--x", "cards", "--y", "measured", "--predicted", "predicted", "--series", "model",
                "--out", svg.toString(), "--json"));
        assertFalse(result.failed(), result.errorMessage());
        com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(result.json()).getAsJsonObject();
        assertEquals(2, json.get("rows").getAsInt());
        assertEquals(1, json.get("charts").getAsInt());
        // one measured field: a model's measured line and its prediction share the model's name (and colour)
        assertEquals(List.of("tiny", "tiny (predicted)"), json.getAsJsonArray("series").asList().stream()
                .map(e -> e.getAsJsonObject().get("series").getAsString()).toList());
        Document doc = parse(svg);
        assertEquals("svg", doc.getDocumentElement().getLocalName());
    }

    @Test
    void badInputSaysWhatIsWrong() throws IOException {
        Path data = Files.writeString(dir.resolve("k.json"), KERNELS);
        String out = dir.resolve("x.svg").toString();
        UsageException noArray = assertThrows(UsageException.class, () -> plot(capturing(new ArrayList<>()))
                .execute(List.of("--data", data.toString(), "--x", "threads", "--y", "ggmlMicros", "--out", out)));
        assertTrue(noArray.getMessage().contains("give --rows PATH"), noArray.getMessage());
        UsageException noField = assertThrows(UsageException.class, () -> plot(capturing(new ArrayList<>()))
                .execute(List.of("--data", data.toString(), "--rows", "cells", "--x", "threads", "--y",
                        "providers.jvm.micros", "--out", out)));
        assertTrue(noField.getMessage().contains("no row has a positive number at threads and at"
                + " [providers.jvm.micros]"), noField.getMessage());
        Path broken = Files.writeString(dir.resolve("b.json"), "{\"cells\": [\n");
        assertThrows(UsageException.class, () -> plot(capturing(new ArrayList<>())).execute(List.of("--data",
                broken.toString(), "--rows", "cells", "--x", "threads", "--y", "a", "--out", out)));
        assertThrows(InvalidConfigurationException.class, () -> plot(null).execute(List.of("--data",
                data.toString(), "--rows", "cells", "--x", "threads", "--y", "ggmlMicros", "--out", out)));
        assertFalse(Files.exists(Path.of(out)));
    }

    /** Every chart the docs show parses as XML with an svg root (a truncated or hand-edited file would not). */
    @Test
    void theSvgsInDocsAreValidXml() throws Exception {
        Path plots = Path.of("..", "docs", "plots");
        List<Path> svgs;
        try (Stream<Path> files = Files.list(plots)) {
            svgs = files.filter(p -> p.toString().endsWith(".svg")).sorted().toList();
        }
        assertTrue(svgs.size() >= 2, "charts in " + plots + ": " + svgs);
        for (Path svg : svgs) {
            assertEquals("svg", parse(svg).getDocumentElement().getLocalName(), svg.toString());
        }
    }

    static Document parse(Path svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        // JFreeSVG names SVG 1.1's DTD; the parser checks well-formedness without fetching it
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return factory.newDocumentBuilder().parse(svg.toFile());
    }
}
