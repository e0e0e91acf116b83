package org.popsolutions.spanker.device.sails;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.popsolutions.spanker.protocol.Frame;
import org.popsolutions.spanker.protocol.MessageType;
import org.popsolutions.spanker.protocol.Messages;

/**
 * The program epoch of one host's cards (protocol 1.1, PROGRAM_EPOCH). Every program is submitted in the current
 * epoch, and its link messages carry it. When a program fails, the epoch moves on at once and every card hears of
 * it: the failed round's programs still running or queued are given up (a receive waiting for the failed card's
 * message fails now, not at its timeout), and the messages they left on the links are dropped where they arrive
 * instead of being taken by the next round's programs — a long-lived host (serve, the web view) goes on after a
 * failed token with clean links. One instance is shared by all cards a host drives together.
 *
 * <p>A host's epochs start at its start time (milliseconds × 2^20, above every earlier host's on this machine) and
 * are announced before its first program: so a card tells one host's link messages from another's, and the end of
 * an earlier host's session drops only that host's leftovers, never the messages a later host's programs already
 * sent (an end noticed late by a loaded card used to drop them, and the receive waited in vain).
 */
final class ProgramEpochs {
    /** The last base handed out in this process: two hosts started in one millisecond still differ. */
    private static final java.util.concurrent.atomic.AtomicLong LAST_BASE = new java.util.concurrent.atomic.AtomicLong();
    private final Set<CardConnection> cards = ConcurrentHashMap.newKeySet();
    private long current = LAST_BASE.accumulateAndGet(System.currentTimeMillis() << 20,
            (last, now) -> Math.max(last + (1 << 20), now));

    /** A program on its way: the epoch it runs in and its reply. */
    record Submitted(long epoch, CompletableFuture<Frame> reply) {
    }

    /**
     * Submits a program (an encoded SUBMIT payload) in the current epoch. Under the same lock as {@link #failed}, so
     * the epoch the card runs it in is the one returned.
     */
    synchronized Submitted submit(CardConnection card, byte[] program) {
        cards.add(card);
        announce(card, current);
        return new Submitted(current, card.request(MessageType.SUBMIT, program));
    }

    /**
     * A program of {@code epoch} failed. The first failure of the current epoch starts the next one and tells every
     * card; a failure of an epoch already left (a given-up program answering) changes nothing.
     */
    synchronized void failed(long epoch) {
        if (epoch != current) {
            return;
        }
        current++;
        cards.removeIf(c -> !c.isOpen());
        for (CardConnection c : cards) {
            announce(c, current);
        }
    }

    synchronized long current() {
        return current;
    }

    /** Sends PROGRAM_EPOCH unless the card already has it; a card of protocol 1.0 has no epochs. */
    private static void announce(CardConnection card, long epoch) {
        if (card.hello().minor() < 1 || !card.isOpen() || card.announcedEpoch() >= epoch) {
            return;
        }
        card.announcedEpoch(epoch);
        // pipelined: the card applies it before any SUBMIT that follows on the connection; a lost card fails there
        card.request(MessageType.PROGRAM_EPOCH, new Messages.ProgramEpoch(epoch).encode());
    }
}
