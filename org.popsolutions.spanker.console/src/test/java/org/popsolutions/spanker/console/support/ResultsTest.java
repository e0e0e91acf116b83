package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.console.CommandResult;
import org.popsolutions.spanker.api.console.CommandStatus;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;

/** How a command ends becomes one result: status (the launcher's exit status), kind and message. */
class ResultsTest {
    /** Fails the way it is told to, after parsing like every command. */
    private static final class Failing extends AbstractConsoleCommand {
        private final RuntimeException failure;

        Failing(RuntimeException failure) {
            super("failing", "fails on purpose", List.of(OptionSpec.value("n", "N", "a number", null)));
            this.failure = failure;
        }

        @Override
        protected Report run(Arguments arguments) {
            if (failure != null) {
                throw failure;
            }
            return new Report().line("fine").put("fine", true);
        }
    }

    @Test
    void aCommandThatRunsIsOkWithItsOutput() {
        CommandResult result = Results.run(new Failing(null), List.of());
        assertAll(() -> assertEquals(CommandStatus.OK, result.status()),
                () -> assertEquals(0, result.status().exitStatus()),
                () -> assertFalse(result.failed()),
                () -> assertEquals(List.of("fine"), result.lines()),
                () -> assertNull(result.errorMessage()));
    }

    @Test
    void aDomainErrorIsStatusOneWithItsKindAndAsJsonWhenAsked() {
        CommandResult plain = Results.run(new Failing(new DeviceException("card 2 is gone")), List.of());
        CommandResult json = Results.run(new Failing(new DeviceException("card 2 is gone")), List.of("--json"));
        assertAll(() -> assertEquals(CommandStatus.DOMAIN_ERROR, plain.status()),
                () -> assertEquals(1, plain.status().exitStatus()),
                () -> assertEquals("Runtime", plain.errorKind()),
                () -> assertEquals("card 2 is gone", plain.errorMessage()),
                () -> assertFalse(plain.isJson()),
                () -> assertEquals("{\"error\":{\"kind\":\"Runtime\",\"message\":\"card 2 is gone\"}}", json.json()));
    }

    @Test
    void aBadCommandLineIsStatusTwoAndNeverInternal() {
        for (List<String> bad : List.of(List.of("--no-such-option"), List.of("--n"), List.of("stray"))) {
            CommandResult result = Results.run(new Failing(null), bad);
            assertEquals(CommandStatus.USAGE_ERROR, result.status(), bad + ": " + result.errorMessage());
            assertEquals(2, result.status().exitStatus());
        }
        CommandResult thrown = Results.run(new Failing(new UsageException("--n must be whole")), List.of("--json"));
        assertAll(() -> assertEquals(CommandStatus.USAGE_ERROR, thrown.status()),
                () -> assertEquals("--n must be whole", thrown.errorMessage()),
                () -> assertFalse(thrown.isJson(), "a usage error is not a JSON document"));
    }

    @Test
    void aDefectIsStatusThreeNamingTheFailingType() {
        CommandResult result = Results.run(new Failing(new IllegalStateException("line one\n  line two")), List.of());
        assertAll(() -> assertEquals(CommandStatus.INTERNAL_ERROR, result.status()),
                () -> assertEquals(3, result.status().exitStatus()),
                () -> assertEquals("java.lang.IllegalStateException", result.errorKind()),
                () -> assertEquals("line one line two", Results.oneLine(result.errorMessage())));
        CommandResult nameless = Results.run(new Failing(new NullPointerException()), List.of());
        assertTrue(nameless.errorMessage().contains("NullPointerException"), nameless.errorMessage());
    }
}
