package org.popsolutions.spanker.card.emulator;

import java.io.IOException;
import java.util.List;

/** {@code java -cp ... CardEmulatorMain --secret-file F [options]}: one emulated Sails card (see --help). */
public final class CardEmulatorMain {
    private CardEmulatorMain() {
    }

    public static void main(String[] args) {
        List<String> arguments = List.of(args);
        if (arguments.contains("--help")) {
            System.out.println(EmulatorOptions.USAGE);
            return;
        }
        EmulatorOptions options;
        try {
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
}
