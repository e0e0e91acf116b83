package org.popsolutions.spanker.itest;

import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivilegedActionException;
import java.security.PrivilegedExceptionAction;
import java.util.Set;
import java.util.function.Supplier;
import javax.security.auth.Subject;
import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.apache.karaf.jaas.boot.principal.UserPrincipal;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.api.console.SessionFactory;

/**
 * What the Pax Exam tests share: waiting (bounded) for something to happen in the container, and running command
 * lines in a fresh Karaf console session, as a user with given roles (Karaf checks its command ACLs against the
 * roles of the calling subject).
 */
final class KarafShell {
    /** Every role of the first start's admin group. */
    static final Set<String> ADMIN_ROLES = Set.of("admin", "manager", "viewer", "systembundles");

    private KarafShell() {
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    interface Work<T> {
        T run() throws Exception;
    }

    /** Polls {@code condition} every {@code pollMillis} for at most {@code timeoutMillis}; then fails naming it. */
    static void await(String what, long timeoutMillis, long pollMillis, Condition condition) throws Exception {
        await(() -> what, timeoutMillis, pollMillis, condition);
    }

    /** As above, the description made when it fails (it may report the last state seen). */
    static void await(Supplier<String> what, long timeoutMillis, long pollMillis, Condition condition)
            throws Exception {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeoutMillis + " ms waiting for " + what.get());
            }
            Thread.sleep(pollMillis);
        }
    }

    /** Runs {@code work} as user "itest" with these roles. */
    static <T> T as(Set<String> roles, Work<T> work) throws Exception {
        Subject subject = new Subject();
        subject.getPrincipals().add(new UserPrincipal("itest"));
        roles.forEach(role -> subject.getPrincipals().add(new RolePrincipal(role)));
        try {
            return Subject.doAs(subject, (PrivilegedExceptionAction<T>) work::run);
        } catch (PrivilegedActionException e) {
            throw e.getException();
        }
    }

    /**
     * Runs the command lines (one a line) one after the other in one fresh session and returns what they printed
     * on standard output (and standard error, when {@code withErrors}). A failing command's exception goes to the
     * caller, unless {@code keepGoing}: then what was printed is returned (a --json failure prints its document).
     */
    static String inSession(SessionFactory sessions, String commandLines, boolean withErrors, boolean keepGoing)
            throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream errStream = withErrors ? outStream : new PrintStream(err, true, StandardCharsets.UTF_8)) {
            Session session = sessions.create(new ByteArrayInputStream(new byte[0]), outStream, errStream);
            try {
                for (String line : commandLines.split("\n")) {
                    session.execute(line);
                }
            } catch (Exception e) {
                if (!keepGoing) {
                    throw e;
                }
            } finally {
                session.close();
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
