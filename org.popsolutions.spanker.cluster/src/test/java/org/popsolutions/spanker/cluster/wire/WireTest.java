package org.popsolutions.spanker.cluster.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.cluster.Coordinate;
import org.popsolutions.spanker.api.cluster.Level;
import org.popsolutions.spanker.api.cluster.TaskParam;

/** The wire format of docs/cluster-wire.md: header bytes, every message round trip, every check. */
class WireTest {
    private static final Address POD = Address.of(new Coordinate(Level.POD, 0, 2, 3, 0));
    private static final Address HOST = Address.of(new Coordinate(Level.HOST, 0, 2, 3, 0x1234));

    @Test
    void theHeaderIsLinqus24BigEndianBytes() {
        byte[] bytes = Wire.encode(POD, HOST, new Message.Shutdown(true));
        assertEquals(25, bytes.length);
        assertArrayEquals(new byte[] {0x4C, 0x51, 0x52, 0x4D, 2, 7, 4, 3, 0, 0, 0, 1, 0, 2, 3, 0, 0, 0, 2, 3, 0x12,
            0x34, 0, 0, 1}, bytes);
    }

    @Test
    void everyMessageRoundTrips() throws IOException {
        List<Message> messages = List.of(
                new Message.Heartbeat(HOST, 1, 123456789L, "4242", "port 1"),
                new Message.RegCode(0x0102030405060708L, new byte[] {9, 8, 7}),
                new Message.RegData(5, 2, new byte[] {1, 2, 3, 4}),
                new Message.CallTask("linqu.add", 0xFFFF_FFFFL, 8, List.of(TaskParam.input(1),
                        new TaskParam(org.popsolutions.spanker.api.cluster.ParamType.OUTPUT, 2, 64),
                        TaskParam.inout(3), TaskParam.scalar(-5))),
                new Message.ScopeExit(3),
                new Message.RetryWithCode(17, "shipped.square"),
                new Message.TaskComplete(17, 0, new byte[] {1}, ""),
                new Message.TaskComplete(18, Status.TASK_ERROR, new byte[0], "'x' on L3(0,0,0,1): boom"),
                new Message.Shutdown(false),
                new Message.TensorLookup(4, 99),
                new Message.TensorData(4, 99, 0, new byte[] {5, 6}),
                new Message.TensorFree(new long[] {1, 2, 3}));
        for (Message message : messages) {
            Wire.Received received = Wire.read(new ByteArrayInputStream(Wire.encode(POD, HOST, message)));
            assertEquals(message.type(), received.header().type());
            assertEquals(POD, received.header().sender());
            assertEquals(HOST, received.header().target());
            assertEquals(Arrays.toString(Wire.payload(message)), Arrays.toString(Wire.payload(received.message())),
                    message.type().toString());
        }
    }

    private static WireException corrupt(int offset, int value, Message message) {
        byte[] bytes = Wire.encode(POD, HOST, message);
        bytes[offset] = (byte) value;
        return assertThrows(WireException.class, () -> Wire.read(new ByteArrayInputStream(bytes)));
    }

    @Test
    void aWrongMagicVersionTypeOrLevelIsRefusedByName() {
        Message shutdown = new Message.Shutdown(true);
        assertTrue(corrupt(0, 0x4D, shutdown).getMessage().contains("magic"));
        assertTrue(corrupt(4, 1, shutdown).getMessage().contains("version 1"));
        assertTrue(corrupt(5, 11, shutdown).getMessage().contains("message type 11"));
        assertTrue(corrupt(6, 2, shutdown).getMessage().contains("level 2"));
        assertTrue(corrupt(22, 1, shutdown).getMessage().contains("padding"));
        assertTrue(corrupt(24, 2, shutdown).getMessage().contains("graceful"));
    }

    @Test
    void payloadSizesAndCountsAreChecked() {
        byte[] bytes = Wire.encode(POD, HOST, new Message.TensorLookup(1, 2));
        bytes[8] = 0x7F; // payload size far above the limit
        assertThrows(WireException.class, () -> Wire.read(new ByteArrayInputStream(bytes)));
        byte[] truncated = Arrays.copyOf(Wire.encode(POD, HOST, new Message.RegCode(1, new byte[10])), 30);
        assertTrue(assertThrows(WireException.class, () -> Wire.read(new ByteArrayInputStream(truncated)))
                .getMessage().contains("stream ended"));
        byte[] trailing = Wire.payload(new Message.ScopeExit(1));
        assertTrue(assertThrows(WireException.class, () -> Wire.decodePayload(MessageType.SCOPE_EXIT,
                Arrays.copyOf(trailing, trailing.length + 1))).getMessage().contains("trailing"));
        assertTrue(assertThrows(WireException.class, () -> Wire.decodePayload(MessageType.SCOPE_EXIT,
                new byte[] {0, 9})).getMessage().contains("scope depth 9"));
        assertTrue(assertThrows(WireException.class, () -> Wire.decodePayload(MessageType.TENSOR_LOOKUP,
                new byte[12])).getMessage().contains("handle 0"));
        byte[] badParam = Wire.payload(new Message.CallTask("k", 1, 0, List.of(TaskParam.scalar(1))));
        badParam[badParam.length - 17] = 4;
        assertTrue(assertThrows(WireException.class, () -> Wire.decodePayload(MessageType.CALL_TASK, badParam))
                .getMessage().contains("parameter type 4"));
        assertTrue(assertThrows(WireException.class, () -> Wire.decodePayload(MessageType.TASK_COMPLETE,
                Wire.payload(new Message.TaskComplete(1, 3, new byte[0], "")))).getMessage().contains("names no reason"));
    }

    @Test
    void usersOnlyReceiveAnswers() {
        assertThrows(WireException.class, () -> Wire.decodeHeader(Arrays.copyOf(
                Wire.encode(POD, Address.USER, new Message.CallTask("k", 1, 0, List.of())), Header.SIZE)));
        Wire.decodeHeader(Arrays.copyOf(Wire.encode(POD, Address.USER,
                new Message.TaskComplete(1, 0, new byte[0], "")), Header.SIZE));
    }
}
