package org.popsolutions.spanker.web.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.popsolutions.spanker.serve.openai.Exchange;
import org.popsolutions.spanker.serve.openai.OpenAiProtocol;

/**
 * The OpenAI-compatible endpoint on Karaf's HTTP whiteboard: present while a model is served
 * ({@code etc/org.popsolutions.spanker.serve.cfg}); every request goes to the same protocol core the launcher's
 * {@code serve} uses.
 */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/v1/*",
    "osgi.http.whiteboard.servlet.pattern=/health", "osgi.http.whiteboard.servlet.name=spanker-openai"})
public final class OpenAiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Reference
    transient OpenAiProtocol protocol;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        protocol.handle(new Exchange() {
            @Override
            public String method() {
                return request.getMethod();
            }

            @Override
            public String path() {
                return request.getRequestURI().substring(request.getContextPath().length());
            }

            @Override
            public InputStream body() throws IOException {
                return request.getInputStream();
            }

            @Override
            public void respond(int status, String contentType, byte[] body) throws IOException {
                response.setStatus(status);
                response.setContentType(contentType);
                response.setContentLength(body.length);
                response.getOutputStream().write(body);
            }

            @Override
            public OutputStream startEventStream() throws IOException {
                response.setHeader("Cache-Control", "no-cache");
                return startStream("text/event-stream; charset=utf-8");
            }

            @Override
            public OutputStream startStream(String contentType) throws IOException {
                response.setStatus(200);
                response.setContentType(contentType);
                OutputStream out = response.getOutputStream();
                out.flush();
                return out;
            }
        });
    }
}
