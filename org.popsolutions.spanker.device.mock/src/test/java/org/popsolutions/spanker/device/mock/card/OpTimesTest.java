package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.card.ActivationMode;
import org.popsolutions.spanker.api.card.Op;
import org.popsolutions.spanker.api.card.Slice;

class OpTimesTest {
    private static Op.MatMul product(int rows, int cols, int vectors, long buffer) {
        return new Op.MatMul(2, new Slice(buffer, 0, rows * (cols / 32L) * 18), rows, cols, vectors,
                new Slice(buffer + 1, 0, 4L * cols * vectors), new Slice(buffer + 2, 0, 4L * rows * vectors),
                ActivationMode.GGML);
    }

    /** Products are told apart by shape and vectors (q against k, decode against prompt), not by their buffers. */
    @Test
    void productsCountByShapeAndVectorsOtherOpsByKind() {
        int q = OpTimes.kind(product(2048, 2048, 1, 10));
        assertEquals(q, OpTimes.kind(product(2048, 2048, 1, 20)), "another layer's q");
        assertNotEquals(q, OpTimes.kind(product(256, 2048, 1, 10)), "k");
        assertNotEquals(q, OpTimes.kind(product(2048, 2048, 8, 10)), "a prompt pass's q");
        Slice s = new Slice(3, 0, 4 * 2048);
        int norm = OpTimes.kind(new Op.RmsNorm(s, s, s, 1e-5f));
        assertEquals(norm, OpTimes.kind(new Op.RmsNorm(new Slice(4, 0, 4 * 64), s, s, 1e-6f)));
        assertNotEquals(q, norm);
    }
}
