package org.popsolutions.spanker.card.emulator;

import java.io.IOException;
import java.util.List;

/** {@code java -cp ... CardEmulatorMain --secret-file F [options]}: one emulated Sails card (see --help). */
public final class CardEmulatorMain {
    private CardEmulatorMain() {
    }

    public static void main(String[] args) {
        List<String> arguments = new java.util.ArrayList<>(List.of(args));
        if (arguments.contains("--help")) {
            System.out.println(EmulatorOptions.USAGE);
            return;
        }
        EmulatorOptions options;
        long owner;
        try {
            owner = takeOwner(arguments);
            options = EmulatorOptions.parse(arguments);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("card-emulator: " + e.getMessage());
            System.err.println(EmulatorOptions.USAGE);
            System.exit(2);
            return;
        }
        try (EmulatedCard card = new EmulatedCard(options);
                RawBenchListener bench = options.bench() ? new RawBenchListener(options.bind()) : null) {
            Runtime.getRuntime().addShutdownHook(new Thread(card::close, "card-stop"));
            if (owner > 0) {
                // A card started for one host process ends with it, even when that process is killed outright.
                ProcessHandle.of(owner).ifPresentOrElse(h -> h.onExit().thenRun(card::close), card::close);
            }
            // The one line a launcher waits for: where the card listens, and who it is.
            System.out.println("READY " + card.hostPort() + " " + card.linkPort() + " " + ProcessHandle.current().pid()
                    + (bench == null ? "" : " " + bench.port()));
            System.out.flush();
            card.awaitStop();
        } catch (IOException e) {
            System.err.println("card-emulator: cannot listen on " + options.bind() + ": " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(0);
    }

    /** Takes {@code --exit-with PID} out of the arguments: the pid, or 0 when absent. */
    static long takeOwner(List<String> arguments) {
        int at = arguments.indexOf("--exit-with");
        if (at < 0) {
            return 0;
        }
        if (at + 1 >= arguments.size()) {
            throw new IllegalArgumentException("--exit-with needs a process id");
        }
        long pid;
        try {
            pid = Long.parseLong(arguments.get(at + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--exit-with takes a process id, got '" + arguments.get(at + 1) + "'");
        }
        if (pid < 1) {
            throw new IllegalArgumentException("--exit-with takes a process id > 0, got " + pid);
        }
        arguments.remove(at + 1);
        arguments.remove(at);
        return pid;
    }
}
