package org.popsolutions.spanker.web.internal;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.servlet.AsyncContext;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code /spanker/events}: server-sent events. A new client gets the current document at once; afterwards an
 * event goes out whenever the document changes (cards come or go, a link changes state, another strategy takes
 * over), checked every {@value #CHECK_MILLIS} ms, and a comment line every {@value #KEEPALIVE_SECONDS} s keeps
 * idle connections open through proxies. A client that went away is dropped at the next write.
 */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/spanker/events",
    "osgi.http.whiteboard.servlet.name=spanker-events", "osgi.http.whiteboard.servlet.asyncSupported=true"})
public final class EventsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final long CHECK_MILLIS = 250;
    static final long KEEPALIVE_SECONDS = 15;

    private final transient ViewModel view;
    private final transient List<AsyncContext> clients = new CopyOnWriteArrayList<>();
    private final transient ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "spanker-web-events");
        thread.setDaemon(true);
        return thread;
    });
    private transient volatile String lastSent = "";
    private transient long ticksSinceWrite;

    @Activate
    public EventsServlet(@Reference ViewModel view) {
        this.view = view;
        ticker.scheduleWithFixedDelay(this::tick, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        ticker.shutdownNow();
        for (AsyncContext client : clients) {
            try {
                client.complete();
            } catch (IllegalStateException alreadyDone) {
                // the container completed it first
            }
        }
        clients.clear();
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("text/event-stream; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Accel-Buffering", "no");
        AsyncContext client = request.startAsync();
        client.setTimeout(0);
        String now = view.json();
        if (send(client, "data: " + now + "\n\n")) {
            clients.add(client);
        }
    }

    private void tick() {
        try {
            String now = view.json();
            if (!now.equals(lastSent)) {
                lastSent = now;
                broadcast("data: " + now + "\n\n");
                ticksSinceWrite = 0;
            } else if (++ticksSinceWrite * CHECK_MILLIS >= KEEPALIVE_SECONDS * 1000) {
                broadcast(": keep-alive\n\n");
                ticksSinceWrite = 0;
            }
        } catch (RuntimeException e) {
            // a service went away between two reads; the next tick reads again
        }
    }

    private void broadcast(String event) {
        for (AsyncContext client : clients) {
            if (!send(client, event)) {
                clients.remove(client);
            }
        }
    }

    /** @return false when the client is gone */
    private static boolean send(AsyncContext client, String event) {
        try {
            var writer = client.getResponse().getWriter();
            writer.write(event);
            writer.flush();
            return !writer.checkError();
        } catch (IOException | IllegalStateException gone) {
            try {
                client.complete();
            } catch (IllegalStateException alreadyDone) {
                // nothing left to close
            }
            return false;
        }
    }
}
