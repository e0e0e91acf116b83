package org.popsolutions.spanker.api.card;

import java.util.Objects;

/**
 * A buffer allocated in a card's DDR. The handle is the card's own name for it (never 0, unique on that card
 * while the buffer lives); ops and host-link transfers refer to the buffer by it.
 *
 * @param card index of the card that holds it
 * @param handle the card's handle, > 0
 * @param bytes its size
 * @param purpose what the caller keeps in it (shown in errors and telemetry), e.g. {@code blk.3.attn_q}
 */
public record CardBuffer(int card, long handle, long bytes, String purpose) {
    public CardBuffer {
        Objects.requireNonNull(purpose, "purpose");
        if (handle <= 0) {
            throw new IllegalArgumentException("a buffer handle is > 0, got " + handle);
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("a buffer has >= 0 bytes, got " + bytes);
        }
    }
}
