package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.Table;
import org.popsolutions.spanker.api.topology.Topology;
import org.popsolutions.spanker.api.topology.TopologyKind;
import org.popsolutions.spanker.api.topology.TopologyService;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Unit;

/**
 * A command's table and its JSON carry the same facts in the same spellings: each command is run twice, as people
 * see it and with {@code --json}, and every cell of its tables must be the JSON value printed in its column's unit.
 */
class OneFactOneFormTest {
    /** Every cell of {@code table} against the JSON rows under {@code key}, column by column. */
    private static void assertSameFacts(Table table, JsonObject json, String key, Column... columns) {
        assertEquals(List.of(columns).stream().map(Column::header).toList(), table.headers(), table.title());
        JsonArray rows = json.getAsJsonArray(key);
        assertEquals(rows.size(), table.rows().size(), table.title() + ": rows in the table and in JSON " + key);
        for (int r = 0; r < rows.size(); r++) {
            JsonObject row = rows.get(r).getAsJsonObject();
            assertEquals(columns.length, row.size(), key + "[" + r + "] has a member for each column: " + row);
            for (int c = 0; c < columns.length; c++) {
                Column column = columns[c];
                assertEquals(column.unit().format(value(row.get(column.key()))), table.rows().get(r).get(c),
                        table.title() + " row " + r + ", " + column.header() + " vs JSON " + column.key());
            }
        }
    }

    private static Object value(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean();
        }
        if (e.getAsJsonPrimitive().isNumber()) {
            String text = e.getAsString();
            return text.contains(".") || text.contains("E") || text.contains("e") ? (Object) e.getAsDouble()
                    : (Object) e.getAsLong();
        }
        return e.getAsString();
    }

    private static JsonObject json(CommandResult result) {
        return JsonParser.parseString(result.json()).getAsJsonObject();
    }

    @Test
    void topologyTablesAreItsJson() {
        Topology ring = SyntheticTopology.of(TopologyKind.RING, 4);
        TopologyCommand command = new TopologyCommand();
        command.topology = new TopologyService() {
            @Override
            public Topology current() {
                return ring;
            }
        };
        CommandResult people = command.execute(List.of());
        JsonObject json = json(command.execute(List.of("--json")));
        assertSameFacts(people.tables().get(0), json, "cards", Column.of("index", "Card"), Column.of("name", "Name"),
                Column.of("provider", "Provider"), Column.of("memoryBytes", "Memory", Unit.BYTES));
        assertSameFacts(people.tables().get(1), json, "links", Column.of("from", "From"), Column.of("to", "To"),
                Column.of("state", "State"), Column.of("bandwidthBytesPerSecond", "Bandwidth", Unit.BYTES_PER_SECOND),
                Column.of("latencySeconds", "Latency", Unit.SECONDS));
    }

    @Test
    void pickCandidatesTableIsItsJson() {
        PickCommand command = new PickCommand();
        command.strategy = new CommandsTest.RecordingStrategy();
        command.bandwidth = new CommandsTest.FakeBandwidth();
        List<String> line = List.of("--m", "1", "--n", "5632", "--k", "2048", "--cards", "4");
        CommandResult people = command.execute(line);
        JsonObject json = json(command.execute(new java.util.ArrayList<>(List.of("--json")) {
            {
                addAll(0, line);
            }
        }));
        assertSameFacts(people.tables().get(0), json, "candidates", Column.of("strategy", "Strategy"),
                Column.of("seconds", "Predicted time (s)", Unit.SCIENTIFIC), Column.of("chosen", "Chosen", Unit.MARK));
        assertEquals(json.get("strategy").getAsString(), people.tables().get(0).rows().get(1).get(0),
                "the chosen one is the strategy");
    }

    @Test
    void linkModelCollectivesTableIsItsJson() {
        LinkModelCommand command = new LinkModelCommand();
        command.linkModel = new org.popsolutions.spanker.scheduler.link.LinkCalculator(
                org.popsolutions.spanker.api.link.LinkParameters.REV_A);
        CommandResult people = command.execute(List.of("--cards", "4", "--mib", "1"));
        JsonObject json = json(command.execute(List.of("--cards", "4", "--mib", "1", "--json")));
        Table collectives = people.tables().stream().filter(t -> t.title().startsWith("4. Collectives")).findFirst()
                .orElseThrow();
        assertSameFacts(collectives, json, "collectives", Column.of("collective", "Collective"),
                Column.of("cabling", "Cabling"), Column.of("algorithm", "Algorithm"),
                Column.of("seconds", "Time", Unit.SECONDS), Column.of("latencySeconds", "α part", Unit.SECONDS),
                Column.of("transferSeconds", "β part", Unit.SECONDS), Column.of("reduceSeconds", "γ part", Unit.SECONDS),
                Column.of("steps", "Steps"), Column.of("maxHops", "Max hops"), Column.of("best", "Best", Unit.MARK));
    }
}
