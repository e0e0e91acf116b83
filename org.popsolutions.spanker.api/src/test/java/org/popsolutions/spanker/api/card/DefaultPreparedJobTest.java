package org.popsolutions.spanker.api.card;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.topology.Topology;

/** The default {@link CardGroup#prepare} (what device.sails uses): each run submits, and the last run's ends are kept. */
class DefaultPreparedJobTest {
    @Test
    void theDefaultJobTellsEachCardsLastCompletionWithItsDeviceTimes() {
        int[] run = {0};
        boolean[] failCardOne = {false};
        List<SailCard> cards = new ArrayList<>();
        for (int c = 0; c < 3; c++) {
            int index = c;
            cards.add((SailCard) Proxy.newProxyInstance(SailCard.class.getClassLoader(), new Class<?>[] {SailCard.class},
                    (proxy, method, args) -> {
                        if (!method.getName().equals("submit")) {
                            throw new UnsupportedOperationException(method.getName());
                        }
                        if (failCardOne[0] && index == 1) {
                            return CompletableFuture.failedFuture(new DeviceException("card 1 is gone"));
                        }
                        // a dilated card's clock: started and finished at times that move with the run
                        return CompletableFuture.completedFuture(new ProgramCompletion(index,
                                ((Program) args[0]).ops().size(), 7, 1000L * run[0], 1000L * run[0] + 10 + index, 4));
                    }));
        }
        CardGroup group = new CardGroup() {
            @Override
            public Topology topology() {
                return null;
            }

            @Override
            public List<SailCard> cards() {
                return cards;
            }

            @Override
            public void close() {
            }
        };
        Program divide = Program.of("divide", new Op.Divide(new Slice(1, 0, 16), 2));
        PreparedJob job = group.prepare(Arrays.asList(divide, divide, null));
        assertNull(job.completion(0), "no run has ended yet");
        for (run[0] = 1; run[0] <= 2; run[0]++) {
            job.run();
            assertEquals(1000L * run[0], job.completion(0).deviceStartNanos());
            assertEquals(1000L * run[0] + 11, job.completion(1).deviceFinishNanos());
            assertEquals(4, job.completion(1).timeDilation());
            assertEquals(1, job.completion(0).ops());
        }
        assertNull(job.completion(2), "no program for card 2");
        assertNull(job.completion(3), "no card 3");
        failCardOne[0] = true;
        assertThrows(DeviceException.class, job::run);
        assertNull(job.completion(1), "card 1's program failed");
        assertEquals(3000L, job.completion(0).deviceStartNanos(), "card 0 ended well in the failed run");
    }
}
