package org.popsolutions.spanker.console.ggml;

import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.InvalidModelException;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Column;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.console.support.Rows;
import org.popsolutions.spanker.ggml.gguf.GgufArray;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;
import org.popsolutions.spanker.model.llama.GgufModelReader;

/** Shows a GGUF file: header, metadata (arrays summarised) and the tensor table. */
@Component(service = ConsoleCommand.class, property = ConsoleCommand.NAME + "=gguf")
public final class GgufCommand extends AbstractConsoleCommand {
    static final int ARRAY_PREVIEW = 5;

    public GgufCommand() {
        super("gguf", "show a GGUF model file: header, metadata and tensor table (validates the whole file)", List.of(),
                List.of("FILE"));
    }

    @Override
    protected Report run(Arguments arguments) {
        String file = arguments.positional(0, "a GGUF FILE");
        GgufFile f = GgufReader.readHeader(Path.of(file));
        Report report = new Report().put("file", file);
        report.rows(new Rows("header", "GGUF " + file, Column.of("version", "version"),
                Column.of("alignment", "alignment"), Column.of("tensorCount", "tensors"),
                Column.of("metadataCount", "metadata"), Column.of("dataOffset", "data offset"),
                Column.of("fileBytes", "file bytes")).as(Rows.Layout.FIELDS)
                .add(f.version(), f.alignment(), f.tensors().size(), f.metadata().size(), f.dataOffset(), f.fileSize()));
        // The one table whose JSON is not its cells: a value is summarised for people (an array's first items,
        // long text cut), while JSON carries it typed (an array as its element type, length and first items).
        Report.TableBuilder meta = Report.tableOf("Metadata", "key", "type", "value");
        Map<String, Object> metaJson = new LinkedHashMap<>();
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            GgufValue v = e.getValue();
            meta.row(e.getKey(), typeName(v), summary(v));
            metaJson.put(e.getKey(), json(v));
        }
        report.table(meta.build()).put("metadata", metaJson);
        Rows tensors = new Rows("tensors", "Tensors", Column.of("name", "name"), Column.of("type", "type"),
                Column.of("shape", "shape"), Column.of("bytes", "bytes"), Column.of("offset", "offset"));
        for (GgufTensorInfo t : f.tensors()) {
            tensors.add(t.name(), t.type().ggmlName(), t.shape(), t.byteSize(), t.offset());
        }
        report.rows(tensors);
        // the file is valid GGUF; whether run and plan accept it as a model is a further question, answered here
        String problem = null;
        try {
            GgufModelReader.shapeOf(f);
        } catch (InvalidModelException e) {
            problem = e.getMessage();
        }
        report.line(problem == null ? "runnable as a llama-family model: yes" : "not runnable as a llama-family model: "
                + problem);
        report.put("runnable", problem == null);
        if (problem != null) {
            report.put("problem", problem);
        }
        return report;
    }

    static String typeName(GgufValue v) {
        return v.type() == GgufValueType.ARRAY ? v.asArray().toString() : v.type().name().toLowerCase();
    }

    static String summary(GgufValue v) {
        if (v.type() != GgufValueType.ARRAY) {
            String s = v.toString();
            return s.length() > 80 ? s.substring(0, 77) + "..." : s;
        }
        GgufArray a = v.asArray();
        List<String> items = new ArrayList<>();
        for (int i = 0; i < Math.min(ARRAY_PREVIEW, a.size()); i++) {
            items.add(element(a, i));
        }
        return "[" + String.join(", ", items) + (a.size() > ARRAY_PREVIEW ? ", ... (" + a.size() + " items)]" : "]");
    }

    private static String element(GgufArray a, int i) {
        return switch (a.elementType()) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64, BOOL -> Long.toString(a.longAt(i));
            case STRING -> '"' + a.strings()[i] + '"';
            case ARRAY -> ((GgufArray[]) a.values())[i].toString();
            default -> String.valueOf(Array.get(a.values(), i));
        };
    }

    private static Object json(GgufValue v) {
        if (v.type() != GgufValueType.ARRAY) {
            return switch (v.type()) {
                case STRING -> v.asString();
                case FLOAT32, FLOAT64 -> v.asDouble();
                case BOOL -> v.asLong() != 0;
                case UINT64 -> v.asLong() < 0 ? Long.toUnsignedString(v.asLong()) : (Object) v.asLong();
                default -> v.asLong();
            };
        }
        GgufArray a = v.asArray();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "array");
        m.put("elementType", a.elementType().name().toLowerCase());
        m.put("length", a.size());
        List<String> head = new ArrayList<>();
        for (int i = 0; i < Math.min(ARRAY_PREVIEW, a.size()); i++) {
            head.add(element(a, i));
        }
        m.put("first", head);
        return m;
    }
}
