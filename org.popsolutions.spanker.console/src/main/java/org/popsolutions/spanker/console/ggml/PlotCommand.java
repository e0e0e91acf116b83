package org.popsolutions.spanker.console.ggml;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.popsolutions.spanker.api.InvalidConfigurationException;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.api.console.OptionSpec;
import org.popsolutions.spanker.api.console.UsageException;
import org.popsolutions.spanker.api.plot.Chart;
import org.popsolutions.spanker.api.plot.ChartWriter;
import org.popsolutions.spanker.api.plot.Series;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;

/**
 * Draws the rows of a JSON document (the benchmark scripts' {@code docs/*.json}: an array of objects somewhere in
 * it, or JSON Lines) as an SVG chart: one field against another on logarithmic axes, one line per group of rows,
 * measured fields solid and predicted ones dashed; one chart per value of {@code --split}. Fields are named by
 * dotted paths ({@code providers.java.micros}).
 */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=plot")
public final class PlotCommand extends AbstractConsoleCommand {
    /** Draws the charts; absent when the plot bundle is not installed. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ChartWriter charts;

    public PlotCommand() {
        super("plot", "draw the rows of a JSON document (a benchmark's docs/*.json) as an SVG chart: a field against"
                + " another on logarithmic axes, a line per group of rows",
                List.of(OptionSpec.value("data", "FILE.json", "the JSON document, or JSON Lines (one row a line)", null),
                        OptionSpec.value("rows", "PATH", "dotted path to the array of rows (none: the document or"
                                + " the lines are the rows)", null),
                        OptionSpec.value("where", "F=V,...", "only rows whose fields have these values", null),
                        OptionSpec.value("x", "PATH", "the field along x (a positive number in every row drawn)",
                                null),
                        OptionSpec.value("y", "PATH,...", "measured fields along y, each a solid line (label=PATH"
                                + " names it)", null),
                        OptionSpec.value("predicted", "PATH,...", "predicted fields along y, each dashed", null),
                        OptionSpec.value("series", "PATH,...", "fields whose values tell the rows' lines apart",
                                null),
                        OptionSpec.value("split", "PATH", "one chart per value of this field", null),
                        OptionSpec.value("title", "TEXT", "the chart's title", null),
                        OptionSpec.value("x-label", "TEXT", "the x axis' label (default: the x field)", null),
                        OptionSpec.value("y-label", "TEXT", "the y axis' label (default: the y fields)", null),
                        OptionSpec.value("out", "FILE.svg", "where the SVG goes (written whole, then renamed)",
                                null)));
    }

    private record Field(String label, String path, boolean predicted) {
    }

    @Override
    protected Report run(Arguments arguments) {
        String data = arguments.requiredString("data");
        Path out = Path.of(arguments.requiredString("out"));
        String x = arguments.requiredString("x");
        List<Field> fields = new ArrayList<>();
        fields.addAll(fields(arguments.string("y").orElse(""), false));
        fields.addAll(fields(arguments.string("predicted").orElse(""), true));
        if (fields.isEmpty()) {
            throw new UsageException("give the fields to draw with --y (measured) and/or --predicted");
        }
        List<String> seriesBy = list(arguments.string("series").orElse(""));
        Map<String, String> where = conditions(arguments.string("where").orElse(""));
        String split = arguments.string("split").orElse(null);
        ChartWriter writer = charts;
        if (writer == null) {
            throw new InvalidConfigurationException("plot needs the chart writer of the org.popsolutions.spanker.plot"
                    + " bundle, which is not installed");
        }
        List<JsonElement> rows = rows(data, arguments.string("rows").orElse(null));
        // chart → series name → x → y, in the rows' order
        Map<String, Map<Field, Map<String, TreeMap<Double, Double>>>> drawn = new LinkedHashMap<>();
        int used = 0;
        int skipped = 0;
        for (JsonElement row : rows) {
            if (!matches(row, where)) {
                continue;
            }
            Double xValue = number(row, x);
            String chart = split == null ? "" : text(row, split);
            String group = String.join(" ", seriesBy.stream().map(f -> text(row, f)).toList());
            boolean any = false;
            for (Field f : fields) {
                Double yValue = number(row, f.path());
                if (xValue == null || yValue == null || !(xValue > 0) || !(yValue > 0) || Double.isInfinite(xValue)
                        || Double.isInfinite(yValue)) {
                    continue;
                }
                drawn.computeIfAbsent(chart, c -> new LinkedHashMap<>()).computeIfAbsent(f, k -> new LinkedHashMap<>())
                        .computeIfAbsent(group, g -> new TreeMap<>()).put(xValue, yValue);
                any = true;
            }
            if (any) {
                used++;
            } else {
                skipped++;
            }
        }
        if (drawn.isEmpty()) {
            throw new UsageException(data + ": no row has a positive number at " + x + " and at "
                    + fields.stream().map(Field::path).toList() + (where.isEmpty() ? "" : " among the rows where "
                            + where) + "; check the field paths (dotted, e.g. providers.java.micros)");
        }
        String title = arguments.string("title").orElse(String.join(", ", fields.stream().map(Field::label).toList())
                + " against " + x);
        String xLabel = arguments.string("x-label").orElse(x);
        String yLabel = arguments.string("y-label").orElse(String.join(", ", fields.stream().map(Field::label)
                .toList()));
        List<Chart> chartList = new ArrayList<>();
        Report.TableBuilder table = Report.tableOf("series drawn", "chart", "series", "points", "kind");
        List<Map<String, Object>> seriesJson = new ArrayList<>();
        drawn.forEach((chart, byField) -> {
            List<Series> series = new ArrayList<>();
            byField.forEach((field, byGroup) -> byGroup.forEach((group, points) -> {
                String name = seriesName(fields, field, group);
                series.add(new Series(name, points.keySet().stream().mapToDouble(Double::doubleValue).toArray(),
                        points.values().stream().mapToDouble(Double::doubleValue).toArray(), field.predicted()));
                String kind = field.predicted() ? "predicted" : "measured";
                table.row(chart.isEmpty() ? "-" : chart, name, points.size(), kind);
                seriesJson.add(Map.of("chart", chart, "series", name, "points", points.size(), "kind", kind));
            }));
            chartList.add(new Chart(chart.isEmpty() ? title : title + " (" + split + " " + chart + ")", xLabel,
                    yLabel, series));
        });
        writer.writeSvg(chartList, out);
        return new Report().table(table.build())
                .line("wrote " + out + ": " + chartList.size() + " chart(s) from " + used + " rows of " + data
                        + (skipped > 0 ? " (" + skipped + " matching rows had no positive number to draw)" : ""))
                .put("out", out.toString()).put("charts", chartList.size()).put("rows", used).put("skipped", skipped)
                .put("series", seriesJson);
    }

    /**
     * A line's name. With one measured field, its lines are named by their group alone and each predicted line is
     * "group (label)": the chart writer draws a name and its "name (...)" in one colour, so a measurement and its
     * prediction match.
     */
    private static String seriesName(List<Field> fields, Field field, String group) {
        List<Field> measured = fields.stream().filter(f -> !f.predicted()).toList();
        String joined = group.isEmpty() ? field.label() : group + " " + field.label();
        if (measured.size() != 1) {
            return field.predicted() ? joined + " (predicted)" : joined;
        }
        String base = group.isEmpty() ? measured.get(0).label() : group;
        return field.predicted() ? base + " (" + field.label() + ")" : base;
    }

    private static List<String> list(String csv) {
        List<String> out = new ArrayList<>();
        for (String part : csv.split(",")) {
            if (!part.isBlank()) {
                out.add(part.strip());
            }
        }
        return out;
    }

    private static List<Field> fields(String csv, boolean predicted) {
        List<Field> out = new ArrayList<>();
        for (String part : list(csv)) {
            int eq = part.indexOf('=');
            String path = eq >= 0 ? part.substring(eq + 1).strip() : part;
            String label = eq >= 0 ? part.substring(0, eq).strip() : part;
            if (path.isEmpty() || label.isEmpty()) {
                throw new UsageException("'" + part + "' is not a field: give PATH or label=PATH");
            }
            out.add(new Field(label, path, predicted));
        }
        return out;
    }

    private static Map<String, String> conditions(String csv) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String part : list(csv)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--where takes FIELD=VALUE pairs separated by commas, got '" + part + "'");
            }
            out.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
        }
        return out;
    }

    /** The rows: the array at {@code path}, the document when it is an array, else one JSON value a line. */
    private static List<JsonElement> rows(String file, String path) {
        String text = new String(CommandFiles.read(file, 4), StandardCharsets.UTF_8);
        JsonElement document;
        try {
            document = JsonParser.parseString(text);
        } catch (JsonParseException wholeFails) {
            document = null;
        }
        if (document == null || !document.isJsonArray() && !document.isJsonObject()) {
            JsonArray lines = new JsonArray();
            int n = 0;
            for (String line : text.split("\n")) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    lines.add(JsonParser.parseString(line));
                } catch (JsonParseException e) {
                    throw new UsageException(file + " is neither one JSON document nor JSON Lines: line " + n + ": "
                            + e.getMessage());
                }
            }
            document = lines;
        }
        JsonElement at = path == null ? document : at(document, path);
        if (at == null || !at.isJsonArray()) {
            throw new UsageException(file + ": " + (path == null ? "the document is not an array; give --rows PATH"
                    : "there is no array at " + path));
        }
        List<JsonElement> out = new ArrayList<>();
        at.getAsJsonArray().forEach(out::add);
        return out;
    }

    private static JsonElement at(JsonElement element, String path) {
        JsonElement e = element;
        for (String step : path.split("\\.")) {
            if (e == null || !e.isJsonObject() || !e.getAsJsonObject().has(step)) {
                return null;
            }
            e = e.getAsJsonObject().get(step);
        }
        return e;
    }

    private static Double number(JsonElement row, String path) {
        JsonElement e = at(row, path);
        if (e == null || !e.isJsonPrimitive()) {
            return null;
        }
        if (e.getAsJsonPrimitive().isNumber()) {
            return e.getAsDouble();
        }
        try {
            return e.getAsJsonPrimitive().isString() ? Double.valueOf(e.getAsString()) : null;
        } catch (NumberFormatException notANumber) {
            return null;
        }
    }

    private static String text(JsonElement row, String path) {
        JsonElement e = at(row, path);
        return e == null || e.isJsonNull() ? "-" : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private static boolean matches(JsonElement row, Map<String, String> where) {
        for (Map.Entry<String, String> c : where.entrySet()) {
            if (!text(row, c.getKey()).equals(c.getValue())) {
                return false;
            }
        }
        return true;
    }
}
