package org.popsolutions.spanker.web.internal;

import java.io.IOException;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code /spanker/state}: the page's document once, as JSON (for scripts and curl). */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/spanker/state",
    "osgi.http.whiteboard.servlet.name=spanker-state"})
public final class StateServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient ViewModel view;

    @Activate
    public StateServlet(@Reference ViewModel view) {
        this.view = view;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setContentType("application/json; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.getWriter().write(view.json());
    }
}
