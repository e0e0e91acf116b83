package org.popsolutions.spanker.console.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;

class ArgumentsTest {
    private static final CommandSpec SPEC = new CommandSpec("demo", "demo",
            List.of(OptionSpec.value("m", "M", "m", null), OptionSpec.flag("json", "json"),
                    OptionSpec.choice("op", List.of("sum", "max"), "op", "sum")),
            List.of("FILE"));

    @Test
    void valuesFlagsChoicesAndPositionals() {
        Arguments a = Arguments.parse(SPEC, List.of("--m", "12", "--json", "--op=MAX", "model.gguf"));
        assertEquals(12, a.requiredInteger("m"));
        assertTrue(a.flag("json"));
        assertEquals("max", a.string("op").orElseThrow());
        assertEquals("model.gguf", a.positional(0, "FILE"));
    }

    @Test
    void unknownOptionIsAUsageErrorListingTheKnownOnes() {
        UsageException e = assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("--bogus")));
        assertTrue(e.getMessage().contains("--bogus") && e.getMessage().contains("--m"), e.getMessage());
    }

    @Test
    void missingValueRepeatedOptionFlagWithValueAndBadChoiceAreUsageErrors() {
        assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("--m")));
        assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("--m", "1", "--m", "2")));
        assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("--json=yes")));
        assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("--op", "mean")));
        assertThrows(UsageException.class, () -> Arguments.parse(SPEC, List.of("a", "b")));
        UsageException forgotten = assertThrows(UsageException.class,
                () -> Arguments.parse(SPEC, List.of("--m", "--json")));
        assertTrue(forgotten.getMessage().contains("--m needs a value"), forgotten.getMessage());
        assertEquals("--json", Arguments.parse(SPEC, List.of("--m=--json")).string("m").orElseThrow());
    }

    @Test
    void unsignedValuesAcceptPlainScientificAndBinarySuffixes() {
        assertEquals(5632L, Arguments.parseUnsigned("n", "5632"));
        assertEquals(2_000_000_000L, Arguments.parseUnsigned("ddr", "2e9"));
        assertEquals(64L << 20, Arguments.parseUnsigned("max", "64M"));
        assertEquals(-1L, Arguments.parseUnsigned("m", "18446744073709551615"));
    }

    @Test
    void negativeFractionalOverflowingAndGarbageNumbersAreUsageErrors() {
        for (String bad : List.of("-1", "1.5", "18446744073709551616", "1e30", "abc", "", "NaN", "-5M")) {
            assertThrows(UsageException.class, () -> Arguments.parseUnsigned("m", bad), bad);
        }
        Arguments a = Arguments.parse(SPEC, List.of("--m", "x"));
        assertThrows(UsageException.class, () -> a.requiredInteger("m"));
    }

    @Test
    void missingRequiredOptionNamesIt() {
        Arguments a = Arguments.parse(SPEC, List.of());
        UsageException e = assertThrows(UsageException.class, () -> a.requiredString("m"));
        assertTrue(e.getMessage().contains("--m"));
        assertThrows(UsageException.class, () -> a.positional(0, "a model FILE"));
    }
}
