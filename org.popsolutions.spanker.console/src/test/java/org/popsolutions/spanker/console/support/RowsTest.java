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
}
