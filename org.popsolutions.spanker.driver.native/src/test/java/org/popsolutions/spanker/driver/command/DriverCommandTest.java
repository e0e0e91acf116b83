package org.popsolutions.spanker.driver.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.DriverException;
import org.popsolutions.spanker.api.NoSailsException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.driver.jni.FuseDouble;

class DriverCommandTest {
    @TempDir
    Path temp;

    @Test
    void jsonNamesTheControlNodeVersionPingAndCards() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "2")) {
            CommandResult result = new DriverCommand().execute(List.of("--dev", dev.directory().toString(), "--json"));
            JsonObject json = JsonParser.parseString(result.json()).getAsJsonObject();
            assertEquals(dev.directory().resolve("spankerctl").toString(), json.get("control").getAsString());
            assertEquals("0.1.0", json.get("version").getAsString());
            assertTrue(json.get("pingMicros").getAsDouble() >= 0);
            assertEquals(false, json.get("workPath").getAsBoolean());
            JsonArray cards = json.getAsJsonArray("cards");
            assertEquals(2, cards.size());
            assertEquals(dev.directory().resolve("spanker1").toString(), cards.get(1).getAsString());
        }
    }

    @Test
    void tablesCarryTheSameFacts() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "1", "--version", "0.2.0")) {
            CommandResult result = new DriverCommand().execute(List.of("--dev", dev.directory().toString()));
            assertEquals("Spanker driver", result.tables().get(0).title());
            assertEquals(List.of("Control", "Version", "Ping (us)", "Work path"), result.tables().get(0).headers());
            List<String> row = result.tables().get(0).rows().get(0);
            assertEquals(dev.directory().resolve("spankerctl").toString(), row.get(0));
            assertEquals("0.2.0", row.get(1));
            assertEquals("yes", row.get(3), "ABI 0.2 has the work path");
            assertEquals(List.of(List.of("0", dev.directory().resolve("spanker0").toString())),
                    result.tables().get(1).rows());
        }
    }

    @Test
    void noDriverIsNoSails() {
        NoSailsException e = assertThrows(NoSailsException.class,
                () -> new DriverCommand().execute(List.of("--dev", temp.toString())));
        assertTrue(e.getMessage().startsWith("no " + temp.resolve("spankerctl")), e.getMessage());
    }

    @Test
    void aRefusedDriverIsADriverError() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--version", "3.0.0")) {
            DriverException e = assertThrows(DriverException.class,
                    () -> new DriverCommand().execute(List.of("--dev", dev.directory().toString(), "--json")));
            assertEquals("Driver", e.kind().label());
        }
    }

    @Test
    void anEmptyDirectoryOptionIsAUsageError() {
        assertThrows(UsageException.class, () -> new DriverCommand().execute(List.of("--dev", "")));
    }
}
