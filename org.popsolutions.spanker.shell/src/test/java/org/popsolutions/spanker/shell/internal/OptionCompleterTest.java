package org.popsolutions.spanker.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.karaf.shell.api.console.Candidate;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;

class OptionCompleterTest {
    private final Completer global = new KarafCommand(new FakeCommand("topology")).getCompleter(false);
    private final Completer scoped = new KarafCommand(new FakeCommand("topology")).getCompleter(true);

    /** The line as the user typed it, cursor at its end; a trailing space starts a new, empty word. */
    private static CommandLine line(String typed) {
        List<String> words = new ArrayList<>(List.of(typed.trim().split("\\s+")));
        if (typed.endsWith(" ")) {
            words.add("");
        }
        String last = words.get(words.size() - 1);
        return new CommandLine() {
            @Override
            public int getCursorArgumentIndex() {
                return words.size() - 1;
            }

            @Override
            public String getCursorArgument() {
                return last;
            }

            @Override
            public int getArgumentPosition() {
                return last.length();
            }

            @Override
            public String[] getArguments() {
                return words.toArray(String[]::new);
            }

            @Override
            public int getBufferPosition() {
                return typed.length();
            }

            @Override
            public String getBuffer() {
                return typed;
            }
        };
    }

    private static List<String> complete(Completer completer, String typed) {
        List<Candidate> candidates = new ArrayList<>();
        completer.completeCandidates(null, line(typed), candidates);
        return candidates.stream().map(Candidate::value).sorted().toList();
    }

    @Test
    void completesTheCommandNameInBothForms() {
        assertEquals(List.of("spanker:topology"), complete(global, "spanker:to"));
        assertEquals(List.of("topology"), complete(global, "top"));
        assertEquals(List.of(), complete(global, "spanker:pi"));
        assertEquals(List.of("topology"), complete(scoped, "t"));
    }

    @Test
    void completesOptionNames() {
        assertEquals(List.of("--cards", "--help", "--json", "--kind", "--no-format"), complete(global, "spanker:topology "));
        assertEquals(List.of("--kind"), complete(global, "spanker:topology --k"));
        assertEquals(List.of("--no-format"), complete(scoped, "topology --n"));
    }

    @Test
    void doesNotOfferOptionsAlreadyGiven() {
        assertEquals(List.of("--help", "--json", "--no-format"), complete(global, "spanker:topology --kind ring --cards 4 "));
    }

    @Test
    void completesEnumValuesAfterTheOption() {
        assertEquals(List.of("mesh", "ring"), complete(global, "spanker:topology --kind "));
        assertEquals(List.of("mesh"), complete(global, "spanker:topology --json --kind m"));
        assertEquals(List.of("--kind=ring"), complete(global, "spanker:topology --kind=r"));
    }

    @Test
    void offersNothingForAFreeFormValue() {
        assertEquals(List.of(), complete(global, "spanker:topology --cards "));
    }

    @Test
    void staysQuietForOtherCommands() {
        assertEquals(List.of(), complete(global, "spanker:pick --"));
        assertEquals(List.of(), complete(scoped, "spanker:topology --"));
    }

    @Test
    void stringApiAddsATrailingSpaceToCompleteWords() {
        List<String> candidates = new ArrayList<>();
        int at = global.complete(null, line("spanker:topology --kind me"), candidates);
        assertEquals(List.of("mesh "), candidates);
        assertEquals("spanker:topology --kind ".length(), at);
    }

    @Test
    void fileOptionsAndFileArgumentsCompletePaths(@TempDir Path directory) throws IOException {
        Files.createDirectories(directory.resolve("models/tiny"));
        Files.writeString(directory.resolve("models/tiny-q8_0.gguf"), "x");
        Files.writeString(directory.resolve("models/.hidden"), "x");
        Files.writeString(directory.resolve("notes.txt"), "x");
        CommandSpec spec = new CommandSpec("plan", "plan a model",
                List.of(OptionSpec.value("model", "FILE.gguf", "model", null), OptionSpec.value("cards", "N", "cards", "4")),
                List.of("FILE"));
        Completer completer = new OptionCompleter(spec, List.of("spanker:plan"),
                new PathCompletion(directory, directory.resolve("models")));
        assertEquals(List.of("models/", "notes.txt"), complete(completer, "spanker:plan --model "));
        assertEquals(List.of("models/tiny-q8_0.gguf", "models/tiny/"), complete(completer, "spanker:plan --model models/ti"));
        assertEquals(List.of("--model=models/"), complete(completer, "spanker:plan --model=m"));
        assertEquals(List.of("~/tiny-q8_0.gguf"), complete(completer, "spanker:plan --model ~/tiny-"));
        assertEquals(List.of("notes.txt"), complete(completer, "spanker:plan n"));
        assertEquals(List.of(), complete(completer, "spanker:plan --cards "));
        assertEquals(List.of(), complete(completer, "spanker:plan --model nowhere/x"));
    }

    @Test
    void aDirectoryStaysOpenAndAFileEndsTheWord(@TempDir Path directory) throws IOException {
        Files.createDirectories(directory.resolve("d"));
        Files.writeString(directory.resolve("f"), "x");
        List<Candidate> candidates = new ArrayList<>();
        new PathCompletion(directory, directory).complete("", "", candidates);
        candidates.sort(java.util.Comparator.comparing(Candidate::value));
        assertEquals("d/", candidates.get(0).value());
        assertEquals(false, candidates.get(0).complete());
        assertEquals("f", candidates.get(1).value());
        assertEquals(true, candidates.get(1).complete());
    }
}
