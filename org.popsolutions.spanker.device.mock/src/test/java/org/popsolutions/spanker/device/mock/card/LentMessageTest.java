package org.popsolutions.spanker.device.mock.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.topology.LinkState;

/** A message that reads its sender's memory in place (above the carry size), between its send and its receive. */
class LentMessageTest {
    /**
     * The sender prunes its notes of lent messages at every op that writes; it must not wait for a receiver that is
     * reading (holding) a message meanwhile — only a message that reads the bytes being written is waited for.
     */
    @Test
    void whetherALentMessageIsSettledIsAnsweredWhileItsReceiverHoldsIt() throws Exception {
        MockLink link = new MockLink(0, 1, LinkState.UP);
        MockLink.Message m = link.take(4, false);
        float[] sender = {1, 2, 3, 4};
        long use = m.lend(sender, 0, null, 0);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread receiver = new Thread(() -> {
            synchronized (m) {
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                m.consumed();
            }
        });
        receiver.start();
        try {
            holding.await();
            // the receiver holds the message: the answer comes anyway (a deadlock here would hang the sender)
            boolean settled = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> m.settled(use));
            assertFalse(settled, "lent and not yet taken");
        } finally {
            release.countDown();
            receiver.join();
        }
        assertTrue(m.settled(use), "taken by its receiver");
    }

    @Test
    void aUseSettlesByACopyAndAReusedMessageIsNotTheOldUse() {
        MockLink link = new MockLink(0, 1, LinkState.UP);
        MockLink.Message m = link.take(4, false);
        float[] sender = {1, 2, 3, 4};
        long first = m.lend(sender, 0, null, 0);
        assertFalse(m.settled(first));
        m.keep(first);
        assertTrue(m.settled(first), "copied before the sender changed its bytes");
        sender[0] = 9;
        assertEquals(1f, m.source[m.sourceAt], "the copy holds the bytes as sent");
        link.recycle(m);
        MockLink.Message again = link.take(4, false);
        long second = again.lend(sender, 0, null, 0);
        assertTrue(again == m && second != first, "the spare message is reused under a new generation");
        assertTrue(again.settled(first), "a note of the old use does not hold the new one");
        assertFalse(again.settled(second));
    }
}
