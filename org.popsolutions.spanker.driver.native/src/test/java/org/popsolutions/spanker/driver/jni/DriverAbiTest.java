package org.popsolutions.spanker.driver.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.DriverException;
import org.popsolutions.spanker.api.NoSailsException;

/**
 * The ABI 0.1 binding against the FUSE driver double (and /dev/null): every call below is a real open, ioctl or close
 * that the kernel hands to the double. One test per named error.
 */
class DriverAbiTest {
    @TempDir
    Path temp;

    @Test
    void aDriverAnswersPingAndVersionAndShowsItsCards() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "3")) {
            DriverStatus status = DriverStatus.probe(dev.directory());
            assertEquals(dev.directory().resolve("spankerctl"), status.control());
            assertEquals(new DriverVersion(0, 1, 0), status.version());
            assertTrue(status.pingNanos() > 0, "a ping takes time: " + status.pingNanos());
            assertEquals(List.of(dev.directory().resolve("spanker0"), dev.directory().resolve("spanker1"),
                    dev.directory().resolve("spanker2")), status.cards());
        }
    }

    @Test
    void pingRoundTripsRepeatOnOneOpenControlNode() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp); ControlDevice control = ControlDevice.open(dev.directory())) {
            for (int i = 0; i < 100; i++) {
                assertTrue(control.ping() > 0);
            }
            assertEquals("0.1.0", control.version().toString());
        }
    }

    @Test
    void enumerationStopsAtTheFirstMissingIndex() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "4", "--gap", "1")) {
            assertTrue(Files.exists(dev.directory().resolve("spanker2")), "spanker2 exists behind the gap");
            assertEquals(List.of(dev.directory().resolve("spanker0")), CardNodes.enumerate(dev.directory()));
        }
    }

    @Test
    void aDriverWithoutCardNodesShowsNoCards() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--cards", "0")) {
            assertEquals(List.of(), DriverStatus.probe(dev.directory()).cards());
        }
    }

    @Test
    void aMissingControlNodeIsNoSails() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--no-control")) {
            NoSailsException e = assertThrows(NoSailsException.class, () -> DriverStatus.probe(dev.directory()));
            assertTrue(e.getMessage().contains(dev.directory().resolve("spankerctl") + ": the spanker kernel driver is"
                    + " not loaded"), e.getMessage());
        }
    }

    @Test
    void aMissingDirectoryIsNoSails() throws Exception {
        Path missing = temp.resolve("no-such-dir");
        NoSailsException e = assertThrows(NoSailsException.class, () -> DriverStatus.probe(missing));
        assertTrue(e.getMessage().contains(": " + missing + " does not exist"), e.getMessage());
        Path file = Files.createFile(temp.resolve("a-file"));
        NoSailsException notADirectory = assertThrows(NoSailsException.class, () -> DriverStatus.probe(file));
        assertTrue(notADirectory.getMessage().contains(": " + file + " is not a directory"), notADirectory.getMessage());
    }

    @Test
    void devNullIsNotASpankerDevice() throws Exception {
        Path link = Files.createSymbolicLink(temp.resolve("spankerctl"), Path.of("/dev/null"));
        try (ControlDevice control = ControlDevice.open(temp)) {
            DriverException ping = assertThrows(DriverException.class, control::ping);
            assertEquals(DriverException.Reason.NOT_A_SPANKER_DEVICE, ping.reason());
            assertTrue(ping.getMessage().contains("SPANKER_IOC_PING answered ENOTTY"), ping.getMessage());
            DriverException version = assertThrows(DriverException.class, control::version);
            assertEquals(DriverException.Reason.NOT_A_SPANKER_DEVICE, version.reason());
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void anUnknownCommandOnTheDoubleIsNotASpankerDevice() throws Exception {
        // ABI 0.1 has no work submission: the card node answers ENOTTY, as a driver of another kind would.
        try (FuseDouble dev = FuseDouble.mount(temp); CardNode card = CardNode.open(dev.directory().resolve("spanker0"))) {
            DriverException e = assertThrows(DriverException.class, () -> card.await(1));
            assertEquals(DriverException.Reason.NOT_A_SPANKER_DEVICE, e.reason());
            assertTrue(e.getMessage().contains("SPANKER_IOC_WORK_WAIT answered ENOTTY"), e.getMessage());
        }
    }

    @Test
    void anotherMajorVersionIsRefusedNamingBothVersions() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--version", "1.0.3")) {
            DriverException e = assertThrows(DriverException.class, () -> DriverStatus.probe(dev.directory()));
            assertEquals(DriverException.Reason.VERSION_MISMATCH, e.reason());
            assertTrue(e.getMessage().contains("speaks ABI 1.0.3, this userspace speaks ABI 0.2.0"), e.getMessage());
        }
    }

    @Test
    void aNewerMinorOfTheSameMajorIsAccepted() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--version", "0.7.1")) {
            assertEquals(new DriverVersion(0, 7, 1), DriverStatus.probe(dev.directory()).version());
        }
    }

    @Test
    void aShortVersionIsMalformed() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--short-version", "4")) {
            DriverException e = assertThrows(DriverException.class, () -> DriverStatus.probe(dev.directory()));
            assertEquals(DriverException.Reason.MALFORMED_VERSION, e.reason());
            assertTrue(e.getMessage().contains("filled 4 of the 8 bytes of struct spanker_version"), e.getMessage());
        }
    }

    @Test
    void aNonZeroReservedFieldIsMalformed() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--reserved", "0x1234")) {
            DriverException e = assertThrows(DriverException.class, () -> DriverStatus.probe(dev.directory()));
            assertEquals(DriverException.Reason.MALFORMED_VERSION, e.reason());
            assertTrue(e.getMessage().contains("reserved field is 0x1234, the ABI requires 0"), e.getMessage());
        }
    }

    @Test
    void aFailingPingNamesItsErrno() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--ping-errno", "5")) {
            DriverException e = assertThrows(DriverException.class, () -> DriverStatus.probe(dev.directory()));
            assertEquals(DriverException.Reason.UNEXPECTED_ERRNO, e.reason());
            assertTrue(e.getMessage().contains("SPANKER_IOC_PING on " + dev.directory().resolve("spankerctl")
                    + " failed with EIO (5, Input/output error)"), e.getMessage());
        }
    }

    @Test
    void anUnreadableNodeIsPermissionDeniedNamingOwnerAndMode() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--mode", "0440")) {
            DriverException e = assertThrows(DriverException.class, () -> DriverStatus.probe(dev.directory()));
            assertEquals(DriverException.Reason.PERMISSION_DENIED, e.reason());
            String owner = Files.getOwner(dev.directory().resolve("spankerctl")).getName();
            assertTrue(e.getMessage().contains("permission denied opening " + dev.directory().resolve("spankerctl")
                    + " read-write (owner " + owner + ":"), e.getMessage());
            assertTrue(e.getMessage().contains("mode r--r-----"), e.getMessage());
        }
    }

    @Test
    void anUnreadableCardNodeStopsTheEnumerationWithItsName() throws Exception {
        try (FuseDouble dev = FuseDouble.mount(temp, "--mode", "0")) {
            DriverException e = assertThrows(DriverException.class, () -> CardNodes.enumerate(dev.directory()));
            assertEquals(DriverException.Reason.PERMISSION_DENIED, e.reason());
            assertTrue(e.getMessage().contains(dev.directory().resolve("spanker0") + " read-write"), e.getMessage());
            assertTrue(e.getMessage().contains("mode ---------"), e.getMessage());
        }
    }

    @Test
    void versionBytesAreCheckedInOrder() {
        Path node = Path.of("/dev/spankerctl");
        byte a5 = (byte) 0xA5;
        assertEquals(new DriverVersion(0, 1, 0), ControlDevice.checked(node, new byte[] {0, 0, 1, 0, 0, 0, 0, 0}));
        DriverException nothing = assertThrows(DriverException.class,
                () -> ControlDevice.checked(node, new byte[] {a5, a5, a5, a5, a5, a5, a5, a5}));
        assertTrue(nothing.getMessage().contains("filled 0 of the 8 bytes"), nothing.getMessage());
        // reserved is checked before the major, so a garbage struct is never reported as a version mismatch
        DriverException garbage = assertThrows(DriverException.class,
                () -> ControlDevice.checked(node, new byte[] {9, 0, 0, 0, 0, 0, 1, 0}));
        assertEquals(DriverException.Reason.MALFORMED_VERSION, garbage.reason());
        DriverException major = assertThrows(DriverException.class,
                () -> ControlDevice.checked(node, new byte[] {2, 0, 5, 0, 0, 0, 0, 0}));
        assertEquals(DriverException.Reason.VERSION_MISMATCH, major.reason());
        assertTrue(major.getMessage().contains("ABI 2.5.0"), major.getMessage());
    }
}
