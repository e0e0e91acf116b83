package org.popsolutions.spanker.itest;

import java.util.concurrent.TimeUnit;

/**
 * When Pax Exam gives up on a container ("Container never came up"), it leaves the Karaf process running. The test
 * JVM's exit ends every process it started that is still there, so no test leaves one behind.
 */
final class StopLeftoverContainers {
    private static boolean installed;

    private StopLeftoverContainers() {
    }

    static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> ProcessHandle.current().descendants().forEach(p -> {
            p.destroy();
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        }), "stop leftover Karaf containers"));
    }
}
