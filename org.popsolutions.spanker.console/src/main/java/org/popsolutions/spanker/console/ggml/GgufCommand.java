package org.popsolutions.spanker.console.ggml;

import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.service.component.annotations.Component;
import org.popsolutions.spanker.api.console.ConsoleCommand;
import org.popsolutions.spanker.console.support.AbstractConsoleCommand;
import org.popsolutions.spanker.console.support.Arguments;
import org.popsolutions.spanker.console.support.Report;
import org.popsolutions.spanker.ggml.gguf.GgufArray;
import org.popsolutions.spanker.ggml.gguf.GgufFile;
import org.popsolutions.spanker.ggml.gguf.GgufReader;
import org.popsolutions.spanker.ggml.gguf.GgufTensorInfo;
import org.popsolutions.spanker.ggml.gguf.GgufValue;
import org.popsolutions.spanker.ggml.gguf.GgufValueType;

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
        Report report = new Report();
        report.table(Report.tableOf("GGUF " + file, "version", "alignment", "tensors", "metadata", "data offset",
                "file bytes").row(f.version(), f.alignment(), f.tensors().size(), f.metadata().size(), f.dataOffset(),
                        f.fileSize()).build());
        Report.TableBuilder meta = Report.tableOf("Metadata", "key", "type", "value");
        Map<String, Object> metaJson = new LinkedHashMap<>();
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            GgufValue v = e.getValue();
            meta.row(e.getKey(), typeName(v), summary(v));
            metaJson.put(e.getKey(), json(v));
        }
        report.table(meta.build());
        Report.TableBuilder tensors = Report.tableOf("Tensors", "name", "type", "shape", "bytes", "offset");
        List<Map<String, Object>> tensorJson = new ArrayList<>();
        for (GgufTensorInfo t : f.tensors()) {
            tensors.row(t.name(), t.type().ggmlName(), Arrays.toString(t.shape()), t.byteSize(), t.offset());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("type", t.type().ggmlName());
            m.put("shape", t.shape());
            m.put("bytes", t.byteSize());
            m.put("offset", t.offset());
            tensorJson.add(m);
        }
        report.table(tensors.build());
        report.put("file", file).put("version", f.version()).put("alignment", f.alignment())
                .put("dataOffset", f.dataOffset()).put("fileBytes", f.fileSize()).put("metadata", metaJson)
                .put("tensors", tensorJson);
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
