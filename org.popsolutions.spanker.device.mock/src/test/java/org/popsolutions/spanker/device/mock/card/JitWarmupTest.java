package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

import org.junit.jupiter.api.Test;

class JitWarmupTest {
    /** The warm-up's own thread swallows failures (best effort); run here, any failure of its ops shows. */
    @Test
    void theWarmUpRunsEveryOpOnItsShapes() {
        assertDoesNotThrow(JitWarmup::run);
    }
}
