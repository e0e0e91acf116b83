package org.popsolutions.spanker.console.internal;

import java.util.ArrayList;
import java.util.List;
import org.popsolutions.spanker.api.console.UsageException;

/** Parses {@code "1,2,3;10,20,30"}: one {@code ;}-separated buffer per card, {@code ,}-separated floats. */
final class Buffers {
    private Buffers() {
    }

    static List<float[]> parse(String text) {
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
                try {
                    buffer[i] = Float.parseFloat(items[i].trim());
                } catch (NumberFormatException e) {
                    throw new UsageException("--buffers: value " + i + " of card " + card + " is not a number: '"
                            + items[i].trim() + "' (expected e.g. \"1,2,3;10,20,30\")");
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
