package org.popsolutions.spanker.web.internal;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.ChartWriter;

/**
 * {@code /spanker/run.svg}: the current or last run's time per token, measured against predicted, as
 * {@code run --plot} draws it; 404 before a placed model's first token.
 */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/spanker/run.svg",
    "osgi.http.whiteboard.servlet.name=spanker-run-chart"})
public final class RunChartServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient ViewModel view;
    private final transient ChartWriter charts;

    @Activate
    public RunChartServlet(@Reference ViewModel view, @Reference ChartWriter charts) {
        this.view = view;
        this.charts = charts;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Optional<Chart> chart = view.runChart();
        response.setHeader("Cache-Control", "no-store");
        if (chart.isEmpty()) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND, "no run yet: place a model and generate a token");
            return;
        }
        response.setContentType("image/svg+xml; charset=utf-8");
        response.getWriter().write(charts.svg(List.of(chart.get())));
    }
}
