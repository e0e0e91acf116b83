package org.popsolutions.spanker.launcher;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.popsolutions.spanker.console.support.JLineTerminal;

/**
 * Entry point of {@code ./spanker}. Settings come from system properties so that the script and the tests can
 * point the launcher elsewhere: {@code spanker.bundles} (default: {@code bundles/} beside the launcher jar),
 * {@code spanker.timeout.ms} (default 5000) and {@code spanker.settle.ms} (default 500), see {@link CommandCatalog};
 * the environment variable {@code SPANKER_DEBUG} (non-empty) shows framework diagnostics on stderr.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int status;
        try {
            // the command's live output (tokens as they come, the load bar) goes to the process's terminal
            status = new Launcher(settings(), System.out, System.err, JLineTerminal::system).run(List.of(args));
        } catch (Throwable e) { // NOPMD: settings() failing is still an internal error, not a stack trace
            System.err.println("internal error: " + e);
            status = ExitStatus.INTERNAL_ERROR;
        }
        System.out.flush();
        System.err.flush();
        // Bundles may leave non-daemon threads behind; the command is over either way.
        System.exit(status);
    }

    static Launcher.Settings settings() throws Exception {
        // Where 'fleet start' finds the card emulator's jars (target/emulator beside the launcher jar).
        if (System.getProperty("spanker.emulator.lib") == null) {
            System.setProperty("spanker.emulator.lib", besideLauncherJar("emulator").toString());
        }
        String bundles = System.getProperty("spanker.bundles");
        Path bundleDirectory = bundles != null ? Path.of(bundles) : besideLauncherJar("bundles");
        String debug = System.getenv("SPANKER_DEBUG");
        return new Launcher.Settings(bundleDirectory,
                Duration.ofMillis(Long.getLong("spanker.timeout.ms", 5_000)),
                Duration.ofMillis(Long.getLong("spanker.settle.ms", 500)),
                debug != null && !debug.isBlank() && !debug.equals("0"));
    }

    private static Path besideLauncherJar(String name) throws Exception {
        Path location = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return location.getParent().resolve(name);
    }
}
