package org.popsolutions.spanker.api.card;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The default float transfers: the bytes {@code write} and {@code read} carry, little-endian float32. */
class SailCardFloatsTest {
    private final CardBuffer buffer = new CardBuffer(0, 3, 64, "b");
    private ByteBuffer written;
    private long writtenAt = -1;
    private long readAt = -1;

    private SailCard card(ByteBuffer toRead) {
        return (SailCard) Proxy.newProxyInstance(SailCard.class.getClassLoader(), new Class<?>[] {SailCard.class},
                (proxy, method, args) -> {
                    if (method.isDefault()) {
                        return InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    switch (method.getName()) {
                        case "write" -> {
                            assertEquals(buffer, args[0]);
                            writtenAt = (Long) args[1];
                            ByteBuffer source = (ByteBuffer) args[2];
                            written = ByteBuffer.allocate(source.remaining());
                            written.put(0, source, source.position(), source.remaining());
                        }
                        case "read" -> {
                            assertEquals(buffer, args[0]);
                            readAt = (Long) args[1];
                            ByteBuffer target = (ByteBuffer) args[2];
                            target.put(target.position(), toRead, 0, target.remaining());
                        }
                        default -> throw new AssertionError("unexpected " + method.getName());
                    }
                    return null;
                });
    }

    @Test
    void writeFloatsWritesTheValuesLittleEndianAtTheOffset() {
        card(null).writeFloats(buffer, 8, new float[] {9f, 1.5f, -2f, 9f}, 1, 2);
        assertEquals(8, writtenAt);
        assertEquals(8, written.remaining());
        written.order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1.5f, written.getFloat(0));
        assertEquals(-2f, written.getFloat(4));
    }

    @Test
    void readFloatsDecodesWhatReadFilledIntoTheRange() {
        ByteBuffer onCard = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 3f).putFloat(4, -0.25f);
        float[] target = {7f, 7f, 7f, 7f};
        card(onCard).readFloats(buffer, 12, target, 1, 2);
        assertEquals(12, readAt);
        assertArrayEquals(new float[] {7f, 3f, -0.25f, 7f}, target);
    }

    @Test
    void aRangeOutsideTheArrayIsRefusedBeforeAnythingMoves() {
        SailCard card = card(null);
        assertThrows(IndexOutOfBoundsException.class, () -> card.writeFloats(buffer, 0, new float[2], 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> card.readFloats(buffer, 0, new float[2], -1, 1));
        assertEquals(-1, writtenAt);
        assertEquals(-1, readAt);
    }
}
