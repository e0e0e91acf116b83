package org.popsolutions.spanker.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeviceChoiceTest {
    @Test
    void mockIsTheDefaultAndChangesNothing() {
        DeviceChoice d = DeviceChoice.take(List.of("--cards", "4", "--json"));
        assertEquals("mock", d.device());
        assertEquals(List.of("--cards", "4", "--json"), d.rest());
        assertEquals(Map.of(), d.frameworkProperties());
        assertEquals(Set.of(), d.leftOutBundles());
    }

    @Test
    void sailsLeavesTheMockOutAndAsksForTheSailsDevice() {
        DeviceChoice d = DeviceChoice.take(List.of("--json", "--device", "sails", "--n", "8"));
        assertEquals(List.of("--json", "--n", "8"), d.rest());
        assertEquals(Map.of("spanker.device", "sails"), d.frameworkProperties());
        assertEquals(Set.of("org.popsolutions.spanker.device.mock"), d.leftOutBundles());
    }

    /** The cards of --hosts are the cluster hosts': the command takes --device to them, this process stays mock. */
    @Test
    void withHostsTheDeviceGoesToTheCommand() {
        DeviceChoice d = DeviceChoice.take(List.of("--hosts", "2", "--device", "sails", "--n", "8"));
        assertEquals("mock", d.device());
        assertEquals(List.of("--hosts", "2", "--device", "sails", "--n", "8"), d.rest());
        assertEquals(Set.of(), d.leftOutBundles());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--hosts=2",
                "--endpoints", "a:1"))).getMessage().contains("--hosts"));
    }

    @Test
    void endpointsImplySailsAndAreChecked() {
        DeviceChoice d = DeviceChoice.take(List.of("--endpoints=127.0.0.1:4000,127.0.0.1:4001"));
        assertEquals("sails", d.device());
        assertEquals("127.0.0.1:4000,127.0.0.1:4001", d.frameworkProperties().get("spanker.sails.endpoints"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--endpoints",
                "localhost"))).getMessage().contains("host:port"));
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--device", "mock",
                "--endpoints", "a:1")));
    }

    @Test
    void unknownDevicesMissingValuesAndRepeatsAreUsageErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--device", "pcie")))
                .getMessage().contains("mock or sails"));
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--device")));
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.take(List.of("--device", "sails", "--device",
                "mock")));
    }

    @Test
    void afterADoubleDashNothingIsTaken() {
        DeviceChoice d = DeviceChoice.take(List.of("--", "--device", "sails"));
        assertEquals("mock", d.device());
        assertEquals(List.of("--", "--device", "sails"), d.rest());
    }
}
