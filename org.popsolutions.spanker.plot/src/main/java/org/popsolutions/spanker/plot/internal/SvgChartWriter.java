package org.popsolutions.spanker.plot.internal;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.DeviceException;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.ChartWriter;
import org.popsolutions.spanker.api.plot.Series;

/**
 * Draws each {@link Chart} with JFreeChart on logarithmic axes (measured series solid with markers, predicted
 * ones dashed, one colour per series name stem so an algorithm's measurement and prediction match) and
 * renders the charts, stacked, into one JFreeSVG document.
 */
@Component
public final class SvgChartWriter implements ChartWriter {
    static final int WIDTH = 900;
    static final int CHART_HEIGHT = 480;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    @Override
    public String svg(List<Chart> charts) {
        return render(charts);
    }

    @Override
    public void writeSvg(List<Chart> charts, Path file) {
        String svg = render(charts);
        Path target = file.toAbsolutePath();
        Path temporary = null;
        try {
            // a fresh name beside the target (same file system, so the rename is atomic), created with the
            // process's usual permissions rather than createTempFile's owner-only ones
            temporary = target.resolveSibling("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                    + System.nanoTime() + ".tmp");
            Files.writeString(temporary, svg, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
            try {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (NoSuchFileException e) {
            deleteQuietly(temporary);
            throw new DeviceException("cannot write the plot " + file + ": no such directory " + target.getParent(), e);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temporary);
            throw new DeviceException("cannot write the plot " + file + ": " + e, e);
        }
    }

    static String render(List<Chart> charts) {
        // JFreeChart measures fonts through AWT; without a display that needs headless mode.
        System.setProperty("java.awt.headless", "true");
        SVGGraphics2D svg = new SVGGraphics2D(WIDTH, CHART_HEIGHT * Math.max(1, charts.size()));
        for (int i = 0; i < charts.size(); i++) {
            chart(charts.get(i)).draw(svg, new Rectangle(0, i * CHART_HEIGHT, WIDTH, CHART_HEIGHT));
        }
        return svg.getSVGDocument();
    }

    private static JFreeChart chart(Chart chart) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Series series : chart.series()) {
            XYSeries line = new XYSeries(series.name(), false, true);
            double[] x = series.x();
            double[] y = series.y();
            for (int i = 0; i < x.length; i++) {
                if (x[i] > 0 && y[i] > 0 && Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                    line.add(x[i], y[i]);
                }
            }
            data.addSeries(line);
        }
        LogAxis xAxis = new LogAxis(chart.xLabel());
        xAxis.setBase(2);
        xAxis.setSmallestValue(1);
        // whole powers only: a tick every 4x in size, every decade in bandwidth and time
        xAxis.setTickUnit(new NumberTickUnit(2));
        LogAxis yAxis = new LogAxis(chart.yLabel());
        yAxis.setSmallestValue(1e-12);
        yAxis.setTickUnit(new NumberTickUnit(1));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Map<String, Color> colours = new LinkedHashMap<>();
        for (int i = 0; i < chart.series().size(); i++) {
            Series series = chart.series().get(i);
            Color colour = colours.computeIfAbsent(stem(series.name()), s -> PALETTE[colours.size() % PALETTE.length]);
            renderer.setSeriesPaint(i, colour);
            renderer.setSeriesShapesVisible(i, !series.predicted());
            renderer.setSeriesStroke(i, series.predicted()
                    ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, xAxis, yAxis, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        JFreeChart result = new JFreeChart(chart.title(), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        result.setBackgroundPaint(Color.WHITE);
        return result;
    }

    /** "ring (predicted)" and "ring" share a colour. */
    private static String stem(String name) {
        int paren = name.indexOf(" (");
        return paren < 0 ? name : name.substring(0, paren);
    }

    private static void deleteQuietly(Path temporary) {
        if (temporary == null) {
            return;
        }
        try {
            Files.deleteIfExists(temporary);
        } catch (IOException ignored) {
            // the original error is the one to report
        }
    }
}
