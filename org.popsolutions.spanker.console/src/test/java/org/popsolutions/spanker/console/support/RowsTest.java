package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.Table;
import org.popsolutions.spanker.api.topology.LinkState;

class RowsTest {
    private final Rows rows = new Rows("links", "Links", Column.of("from", "From"),
            Column.of("bandwidthBytesPerSecond", "Bandwidth", Unit.BYTES_PER_SECOND),
            Column.of("memoryBytes", "Memory", Unit.BYTES), Column.of("latencySeconds", "Latency", Unit.SECONDS),
            Column.of("up", "Up", Unit.MARK), Column.of("note", "Note"));

    @Test
    void theTableAndTheJsonComeFromTheSameValues() {
        rows.add(0, 500_000_000L, 4L << 30, 1e-6, true, "ring").add(1, 2_000_000_000L, 1000L, 0.0125, false, null);
        Table table = rows.table();
        assertEquals("Links", table.title());
        assertEquals(List.of("From", "Bandwidth", "Memory", "Latency", "Up", "Note"), table.headers());
        assertEquals(List.of("0", "500 MB/s", "4.0 GiB", "1.00 µs", "*", "ring"), table.rows().get(0));
        assertEquals(List.of("1", "2.00 GB/s", "1000 B", "12.5 ms", "", "-"), table.rows().get(1));
        List<Map<String, Object>> json = rows.json();
        assertEquals(List.of("from", "bandwidthBytesPerSecond", "memoryBytes", "latencySeconds", "up", "note"),
                List.copyOf(json.get(0).keySet()));
        assertEquals(500_000_000L, json.get(0).get("bandwidthBytesPerSecond"));
        assertEquals(true, json.get(0).get("up"));
        assertEquals(null, json.get(1).get("note"));
        Report report = new Report().put("kind", "ring").rows(rows);
        assertEquals(List.of("kind", "links"), List.copyOf(report.json().keySet()), "JSON in the order facts came");
        assertEquals(table, report.tables().get(0));
    }

    @Test
    void aValueIsSpelledOnceByTheCallerNotByEachRenderer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> rows.add(0, 1L, 1L, 1.0, true, LinkState.UP));
        assertTrue(e.getMessage().contains("column note") && e.getMessage().contains("LinkState"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> rows.add(0, 1L));
    }

    @Test
    void eachLayoutPutsTheSameRowsWhereItsJsonWantsThem() {
        Rows levels = new Rows("levels", "Levels", Column.of("level", "Level"), Column.of("live", "Live"),
                Column.of("dead", "Dead")).as(Rows.Layout.MAP).add("L3", 4, 0).add("L4", 1, 1);
        Map<String, Object> document = new Report().rows(levels).json();
        assertEquals(Map.of("L3", Map.of("live", 4, "dead", 0), "L4", Map.of("live", 1, "dead", 1)),
                document.get("levels"));
        Rows counters = new Rows("counters", "Counters", Column.of("counter", "Counter"), Column.of("value", "Value"))
                .as(Rows.Layout.MAP).add("waits", 7L);
        assertEquals(Map.of("waits", 7L), counters.jsonValue(), "two columns: the value itself");

        Rows buffers = new Rows("cards", "Cards", Column.of("card", "Card"), Column.of("buffer", "Buffer"))
                .as(Rows.Layout.VALUES).add(0, new float[] {1f, 0.1f}).add(1, new float[] {Float.NaN, 2.5f});
        assertEquals(List.of(List.of(1f, 0.1f), List.of(Float.NaN, 2.5f)), buffers.jsonValue());
        assertEquals(List.of("0", "[1, 0.1]"), buffers.table().rows().get(0), "a float as it prints, not widened");
        Rows gap = new Rows("cards", "Cards", Column.of("card", "Card"), Column.of("buffer", "Buffer"))
                .as(Rows.Layout.VALUES).add(1, 2);
        assertThrows(IllegalStateException.class, gap::jsonValue, "a VALUES row's first cell is its position");

        Rows header = new Rows("header", "Header", Column.of("version", "Version"),
                Column.of("fileBytes", "Size", Unit.BYTES)).as(Rows.Layout.FIELDS).add(3, 2048L);
        Report report = new Report().put("file", "m.gguf").rows(header);
        assertEquals(List.of("file", "version", "fileBytes"), List.copyOf(report.json().keySet()));
        assertEquals(List.of("3", "2.0 KiB"), report.tables().get(0).rows().get(0));
        header.add(4, 1L);
        assertThrows(IllegalStateException.class, header::jsonValue, "FIELDS is one row");
    }

    @Test
    void aPreviewTableShowsTheFirstRowsAndJsonAllOfThem() {
        Rows f = new Rows("f", "f", Column.of("i", "i"), Column.of("f", "f")).as(Rows.Layout.VALUES);
        for (int i = 0; i < 40; i++) {
            f.add(i, 9L * i * i);
        }
        Report report = new Report().rows(f, 16);
        assertEquals(16, report.tables().get(0).rows().size());
        assertEquals(40, ((List<?>) report.json().get("f")).size());
        assertEquals(List.of("[1.00 µs, 2.50 ms]", "25%", "yes", "12.3"), List.of(Unit.SECONDS.format(List.of(1e-6,
                2.5e-3)), Unit.PERCENT.format(0.25), Unit.YES_NO.format(true), Unit.FIXED_1.format(12.34)));
    }
}
