package org.popsolutions.spanker.api.card;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One card, as a device bundle drives it: the only way the host touches a card. Thread-safe: host-link transfers
 * and submissions may come from any thread.
 *
 * <p>Ordering: a host-link {@link #write} that has returned is visible to every program submitted after it; a
 * {@link #read} sees every program whose completion has been observed. Transfers into a buffer a running program
 * uses have an undefined result.
 */
@ProviderType
public interface SailCard {
    CardIdentity identity();

    /**
     * Allocates {@code bytes} bytes of card DDR (contents zero).
     *
     * @throws OutOfCardMemoryException when they do not fit in the configured capacity; nothing is allocated
     */
    CardBuffer allocate(long bytes, String purpose);

    /** Gives a buffer back; freeing one that is not live on this card fails with {@link IllegalArgumentException}. */
    void free(CardBuffer buffer);

    CardMemory memory();

    /**
     * Host-link write: the bytes from {@code source}'s position to its limit go to {@code buffer} from byte
     * {@code offset} (the source's position is left as it was). Counted in {@link CardTelemetry}.
     *
     * @throws IllegalArgumentException when the range falls outside the buffer
     */
    void write(CardBuffer buffer, long offset, ByteBuffer source);

    /**
     * Host-link read: fills {@code target} from its position to its limit with the bytes of {@code buffer} from byte
     * {@code offset} (the target's position is left as it was). Counted in {@link CardTelemetry}.
     */
    void read(CardBuffer buffer, long offset, ByteBuffer target);

    /**
     * Host-link write of float32 values: {@code count} values of {@code source} from index {@code from} go to
     * {@code buffer} from byte {@code offset}, little-endian: the same bytes, checks and counts as {@link #write}.
     * The default encodes them into a byte buffer for {@link #write}; a card that keeps float32 buffers as floats
     * (the in-process mock) takes them in one copy instead of two.
     *
     * @throws IllegalArgumentException when the range falls outside the buffer
     * @throws IndexOutOfBoundsException when {@code from} and {@code count} fall outside {@code source}
     */
    default void writeFloats(CardBuffer buffer, long offset, float[] source, int from, int count) {
        Objects.checkFromIndexSize(from, count, source.length);
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(count, Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(source, from, count);
        write(buffer, offset, bytes);
    }

    /**
     * Host-link read of float32 values: fills {@code target} from index {@code from} with {@code count} values of
     * {@code buffer} from byte {@code offset}, little-endian: the same bytes, checks and counts as {@link #read}.
     * The default decodes them from a byte buffer {@link #read} filled.
     *
     * @throws IllegalArgumentException when the range falls outside the buffer
     * @throws IndexOutOfBoundsException when {@code from} and {@code count} fall outside {@code target}
     */
    default void readFloats(CardBuffer buffer, long offset, float[] target, int from, int count) {
        Objects.checkFromIndexSize(from, count, target.length);
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(count, Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        read(buffer, offset, bytes);
        bytes.asFloatBuffer().get(target, from, count);
    }

    /**
     * Queues a program. The future completes when its last op has run, or exceptionally with a
     * {@link CardOpException} naming the card, the op and what was wrong (the ops after it do not run).
     */
    CompletableFuture<ProgramCompletion> submit(Program program);

    /** Each port's state, in port order. */
    List<PortStatus> ports();

    /**
     * Takes a port down ({@code enabled = false}: DOWN) or trains it ({@code true}: TRAINING, then UP or FAULT).
     * Every change is posted as a {@link CardEvents#LINK_STATE} event.
     */
    void enablePort(int port, boolean enabled);

    CardTelemetry telemetry();
}
