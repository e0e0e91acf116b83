package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.popsolutions.spanker.api.console.UsageException;

/** Parses {@code "1,2,3;10,20,30"}: one {@code ;}-separated buffer per card, {@code ,}-separated floats. */
final class Buffers {
    private Buffers() {
    }

    static List<float[]> parse(String text) {
        if (text.isBlank()) {
            throw new UsageException("--buffers is empty: give one buffer per card, e.g. \"1,2,3;10,20,30\"");
        }
        List<float[]> buffers = new ArrayList<>();
        String[] perCard = text.split(";", -1);
        for (int card = 0; card < perCard.length; card++) {
            String values = perCard[card].trim();
            if (values.isEmpty()) {
                buffers.add(new float[0]);
                continue;
            }
            String[] items = values.split(",", -1);
            float[] buffer = new float[items.length];
            for (int i = 0; i < items.length; i++) {
                String item = items[i].trim();
                try {
                    buffer[i] = Float.parseFloat(item);
                } catch (NumberFormatException e) {
                    throw new UsageException("--buffers: value " + i + " of card " + card + " is not a number: '"
                            + item + "' (expected e.g. \"1,2,3;10,20,30\")");
                }
                if (Float.isInfinite(buffer[i]) && !item.toLowerCase(Locale.ROOT).contains("inf")) {
                    throw new UsageException("--buffers: value " + i + " of card " + card + " (" + item
                            + ") overflows float32 (largest finite " + Float.MAX_VALUE
                            + "); write Infinity to mean it");
                }
            }
            buffers.add(buffer);
        }
        return buffers;
    }

    static String format(float[] buffer) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < buffer.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(formatValue(buffer[i]));
        }
        return sb.toString();
    }

    private static String formatValue(float value) {
        return value == Math.rint(value) && Math.abs(value) < 1e7 ? String.valueOf((long) value) : String.valueOf(value);
    }
}
