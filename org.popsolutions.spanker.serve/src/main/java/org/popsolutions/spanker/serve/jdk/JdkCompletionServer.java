package org.popsolutions.spanker.serve.jdk;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.runtime.CompletionServer;
import org.popsolutions.spanker.api.runtime.LoadedModel;
import org.popsolutions.spanker.api.runtime.ServeOptions;
import org.popsolutions.spanker.api.runtime.ServingEndpoint;
import org.popsolutions.spanker.api.runtime.ServingStatus;
import org.popsolutions.spanker.serve.openai.Exchange;
import org.popsolutions.spanker.serve.openai.OpenAiProtocol;

/**
 * The endpoint on the JDK's built-in HTTP server, bound to 127.0.0.1. While an endpoint is open its queue is a
 * {@link ServingStatus} service (the metrics read it).
 */
@Component(service = CompletionServer.class)
public final class JdkCompletionServer implements CompletionServer {
    private final BundleContext context;
    /** Open endpoints, closed with the component so a stopped bundle leaves no port behind. */
    private final java.util.Set<ServingEndpoint> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Activate
    public JdkCompletionServer(BundleContext context) {
        this.context = context;
    }

    /** Outside OSGi (tests): nothing is registered. */
    public JdkCompletionServer() {
        this.context = null;
    }

    @Override
    public ServingEndpoint serve(LoadedModel model, ServeOptions options) {
        OpenAiProtocol protocol = new OpenAiProtocol(model, options.modelId(), options.queueCapacity());
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), 64);
        } catch (IOException e) {
            throw new DeviceException("cannot listen on 127.0.0.1:" + options.port() + ": " + e.getMessage()
                    + " (choose another --port)", e);
        }
        AtomicInteger threads = new AtomicInteger();
        // a thread per connection: waiting requests hold theirs, and a refusal must not wait behind them
        ExecutorService executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "spanker-serve-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (exchange) {
                protocol.handle(new JdkExchange(exchange));
            } catch (IOException | RuntimeException e) {
                // the client went away mid-answer, or a bug: the connection is closed either way
            }
        });
        server.start();
        ServiceRegistration<ServingStatus> registration = context == null ? null
                : context.registerService(ServingStatus.class, protocol, new Hashtable<>());
        URI address = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
        Endpoint endpoint = new Endpoint(protocol, server, executor, registration, address, open);
        open.add(endpoint);
        return endpoint;
    }

    @org.osgi.service.component.annotations.Deactivate
    void closeAll() {
        for (ServingEndpoint e : List.copyOf(open)) {
            e.close();
        }
    }

    /** Identity matters: the open set holds endpoints, so this is no record (a record's hash would read the set). */
    private static final class Endpoint implements ServingEndpoint {
        private final OpenAiProtocol protocol;
        private final HttpServer server;
        private final ExecutorService executor;
        private final ServiceRegistration<ServingStatus> registration;
        private final URI address;
        private final java.util.Set<ServingEndpoint> open;

        Endpoint(OpenAiProtocol protocol, HttpServer server, ExecutorService executor,
                ServiceRegistration<ServingStatus> registration, URI address, java.util.Set<ServingEndpoint> open) {
            this.protocol = protocol;
            this.server = server;
            this.executor = executor;
            this.registration = registration;
            this.address = address;
            this.open = open;
        }

        @Override
        public URI address() {
            return address;
        }

        @Override
        public int queueDepth() {
            return protocol.queueDepth();
        }

        @Override
        public int queueCapacity() {
            return protocol.queueCapacity();
        }

        @Override
        public int running() {
            return protocol.running();
        }

        @Override
        public long rejected() {
            return protocol.rejected();
        }

        @Override
        public long served() {
            return protocol.served();
        }

        @Override
        public long cancelled() {
            return protocol.cancelled();
        }

        @Override
        public void close() {
            open.remove(this);
            protocol.close();
            if (registration != null) {
                try {
                    registration.unregister();
                } catch (IllegalStateException alreadyGone) {
                    // the bundle stopped first
                }
            }
            server.stop(0);
            executor.shutdownNow();
        }
    }

    private static final class JdkExchange implements Exchange {
        private final HttpExchange exchange;

        JdkExchange(HttpExchange exchange) {
            this.exchange = exchange;
        }

        @Override
        public String method() {
            return exchange.getRequestMethod();
        }

        @Override
        public String path() {
            return exchange.getRequestURI().getPath();
        }

        @Override
        public InputStream body() {
            return exchange.getRequestBody();
        }

        @Override
        public void respond(int status, String contentType, byte[] body) throws IOException {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }

        @Override
        public OutputStream startEventStream() throws IOException {
            exchange.getResponseHeaders().set("Cache-Control", "no-cache");
            return startStream("text/event-stream; charset=utf-8");
        }

        @Override
        public OutputStream startStream(String contentType) throws IOException {
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.sendResponseHeaders(200, 0);
            return exchange.getResponseBody();
        }
    }
}
