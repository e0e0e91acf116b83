package org.popsolutions.spanker.web.internal;

import java.io.IOException;
import java.io.InputStream;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Component;

/** {@code /spanker}: the page (one HTML file with its script; it draws from {@code /spanker/events}). */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/spanker",
    "osgi.http.whiteboard.servlet.name=spanker-page"})
public final class PageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] page;
        try (InputStream in = PageServlet.class.getResourceAsStream("spanker.html")) {
            if (in == null) {
                response.sendError(HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "spanker.html is missing from the bundle");
                return;
            }
            page = in.readAllBytes();
        }
        response.setContentType("text/html; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(page.length);
        response.getOutputStream().write(page);
    }
}
