package org.popsolutions.spanker.shell.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.karaf.shell.api.console.Candidate;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.popsolutions.spanker.api.console.CommandSpec;
import org.popsolutions.spanker.api.console.OptionSpec;

/**
 * Completes one Spanker command line: the command name itself, then {@code --option} names (options already
 * given are not offered again), and after an option that has {@code choices} (an enum such as
 * {@code --kind ring|mesh}) those values, also in the {@code --kind=ri} form. A file option's value
 * ({@code --model FILE}) and a {@code FILE} argument complete paths.
 *
 * <p>Karaf asks every registered command's completer about the whole line, so the first word must be one of
 * this command's names or nothing is offered.
 */
final class OptionCompleter implements Completer {
    private final CommandSpec spec;
    private final List<String> commandNames;
    private final PathCompletion paths;

    /** @param commandNames the words that invoke this command: {@code spanker:topology}, and {@code topology} */
    OptionCompleter(CommandSpec spec, List<String> commandNames) {
        this(spec, commandNames, PathCompletion.ofProcess());
    }

    OptionCompleter(CommandSpec spec, List<String> commandNames, PathCompletion paths) {
        this.spec = spec;
        this.commandNames = List.copyOf(commandNames);
        this.paths = paths;
    }

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        List<Candidate> found = new ArrayList<>();
        completeCandidates(session, commandLine, found);
        for (Candidate candidate : found) {
            candidates.add(candidate.complete() ? candidate.value() + " " : candidate.value());
        }
        return candidates.isEmpty() ? -1 : commandLine.getBufferPosition() - commandLine.getArgumentPosition();
    }

    @Override
    public void completeCandidates(Session session, CommandLine commandLine, List<Candidate> candidates) {
        String[] words = commandLine.getArguments();
        int index = commandLine.getCursorArgumentIndex();
        String prefix = typedPrefix(commandLine);
        if (index <= 0) {
            for (String name : commandNames) {
                if (name.startsWith(prefix)) {
                    candidates.add(new Candidate(name, name, null, spec.description(), null, null, true));
                }
            }
            return;
        }
        if (words.length == 0 || !commandNames.contains(words[0])) {
            return;
        }
        if (index >= words.length) {
            index = words.length;
        }
        OptionSpec awaitingValue = optionAwaitingValue(words, index);
        if (awaitingValue != null) {
            if (PathCompletion.isPathOption(awaitingValue)) {
                paths.complete("", prefix, candidates);
            } else {
                addChoices("", awaitingValue, prefix, candidates);
            }
            return;
        }
        int eq = prefix.indexOf('=');
        if (prefix.startsWith("--") && eq > 0) {
            OptionSpec option = option(prefix.substring(2, eq));
            if (option != null && PathCompletion.isPathOption(option)) {
                paths.complete(prefix.substring(0, eq + 1), prefix.substring(eq + 1), candidates);
            } else if (option != null) {
                addChoices(prefix.substring(0, eq + 1), option, prefix.substring(eq + 1), candidates);
            }
            return;
        }
        boolean takesPath = spec.arguments().stream().anyMatch(PathCompletion::isPathArgument);
        if (!prefix.startsWith("-") && takesPath) {
            paths.complete("", prefix, candidates);
        }
        if (!prefix.isEmpty() && !prefix.startsWith("-")) {
            return;
        }
        Set<String> given = optionsGiven(words, index);
        for (OptionSpec option : spec.options()) {
            String word = "--" + option.name();
            if (!given.contains(option.name()) && word.startsWith(prefix)) {
                candidates.add(new Candidate(word, word, null, option.description(), null, null, true));
            }
        }
    }

    /** The option whose value the cursor word is, when the word before the cursor is a valued option. */
    private OptionSpec optionAwaitingValue(String[] words, int index) {
        String previous = words[index - 1];
        if (index - 1 == 0 || !previous.startsWith("--") || previous.contains("=")) {
            return null;
        }
        OptionSpec option = option(previous.substring(2));
        if (option == null || option.isFlag()) {
            return null;
        }
        // "--m --n": the word before --m is the value of another option, so walk back to be sure.
        return isValue(words, index - 1) ? null : option;
    }

    /** Whether {@code words[i]} is itself the value of the valued option just before it. */
    private boolean isValue(String[] words, int i) {
        if (i <= 1) {
            return false;
        }
        String previous = words[i - 1];
        if (!previous.startsWith("--") || previous.contains("=")) {
            return false;
        }
        OptionSpec option = option(previous.substring(2));
        return option != null && !option.isFlag() && !isValue(words, i - 1);
    }

    private Set<String> optionsGiven(String[] words, int cursor) {
        Set<String> given = new HashSet<>();
        for (int i = 1; i < words.length; i++) {
            if (i == cursor) {
                continue;
            }
            String word = words[i];
            if (word.startsWith("--") && !isValue(words, i)) {
                int eq = word.indexOf('=');
                given.add(eq < 0 ? word.substring(2) : word.substring(2, eq));
            }
        }
        return given;
    }

    private static void addChoices(String head, OptionSpec option, String prefix, Collection<Candidate> candidates) {
        for (String choice : option.choices()) {
            if (choice.startsWith(prefix)) {
                String value = head + choice;
                candidates.add(new Candidate(value, choice, null, null, null, null, true));
            }
        }
    }

    private OptionSpec option(String name) {
        for (OptionSpec option : spec.options()) {
            if (option.name().equals(name)) {
                return option;
            }
        }
        return null;
    }

    private static String typedPrefix(CommandLine commandLine) {
        String word = commandLine.getCursorArgument();
        if (word == null) {
            return "";
        }
        int position = Math.min(Math.max(commandLine.getArgumentPosition(), 0), word.length());
        return word.substring(0, position);
    }
}
