package org.popsolutions.spanker.api.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CardSpiTypesTest {
    @Test
    void everyOpHasItsOwnWireCodeAndRoundTrips() {
        Set<Integer> codes = Arrays.stream(OpCode.values()).map(OpCode::code).collect(Collectors.toSet());
        assertEquals(OpCode.values().length, codes.size());
        for (OpCode op : OpCode.values()) {
            assertEquals(op, OpCode.fromCode(op.code()));
        }
        assertThrows(IllegalArgumentException.class, () -> OpCode.fromCode(0));
    }

    @Test
    void slicesStayInsideThemselvesAndTheAbsentSliceHasNoRange() {
        CardBuffer buffer = new CardBuffer(0, 7, 64, "x");
        Slice all = Slice.of(buffer);
        assertEquals(16, all.floats());
        assertEquals(new Slice(7, 8, 16), Slice.floats(buffer, 2, 4));
        assertEquals(new Slice(7, 12, 4), Slice.floats(buffer, 2, 4).sub(4, 4));
        assertThrows(IllegalArgumentException.class, () -> all.sub(60, 8));
        assertThrows(IllegalArgumentException.class, () -> new Slice(0, 4, 0));
        assertTrue(Slice.NONE.isNone());
    }

    @Test
    void identityFindsThePortToANeighbour() {
        CardIdentity id = new CardIdentity(1, "mock1", "mock", "mock-1", 1, 1 << 20, Set.of(0, 2), Set.of(OpCode.ADD),
                List.of(new LinkPort(0, 2, 1, 500_000_000, 1e-6), new LinkPort(1, 0, 0, 500_000_000, 1e-6)));
        assertEquals(1, id.portTo(0));
        assertEquals(0, id.portTo(2));
        assertEquals(-1, id.portTo(3));
    }

    @Test
    void originTagsServeOnlyMaxAndMin() {
        Slice v = new Slice(1, 0, 16);
        Slice t = new Slice(2, 0, 4);
        assertThrows(IllegalArgumentException.class, () -> new Op.TagOrigins(Combine.SUM, v, t, 0));
        assertEquals(OpCode.TAG_ORIGINS, new Op.TagOrigins(Combine.MAX, v, t, 3).code());
    }

    @Test
    void outOfMemoryNamesCardRequestAndFree() {
        OutOfCardMemoryException e = new OutOfCardMemoryException(2, "blk.0.attn_q", 4096, 1000, 1000);
        assertEquals(2, e.card());
        assertEquals(4096, e.requested());
        assertEquals(1000, e.free());
        assertTrue(e.getMessage().startsWith("card 2 cannot hold blk.0.attn_q: 4096 bytes requested, 1000"));
    }
}
