package org.popsolutions.spanker.console.internal;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.UsageException;

/** The command line is checked before the model file is read: no reader or planner is needed to refuse it. */
class PlanCommandTest {
    private static UsageException refused(String... arguments) {
        return assertThrows(UsageException.class, () -> new PlanCommand().execute(List.of(arguments)));
    }

    @Test
    void kindWithoutCardsIsRefusedInsteadOfIgnored() {
        assertTrue(refused("--model", "m.gguf", "--kind", "mesh").getMessage().contains("give --cards too"));
    }

    @Test
    void cardMemoryBeyondSignedRangeIsNamedNotCalledNonPositive() {
        String message = refused("--model", "m.gguf", "--cards", "2", "--card-memory", "18446744073709551615")
                .getMessage();
        assertTrue(message.contains("18446744073709551615"), message);
        assertTrue(message.contains("within 1.."), message);
    }

    @Test
    void contextBelowOneIsRefused() {
        assertTrue(refused("--model", "m.gguf", "--cards", "2", "--context", "0").getMessage()
                .contains("--context must be at least 1"));
    }
}
