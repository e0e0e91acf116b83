package org.popsolutions.spanker.console.ggml;

import java.util.Locale;

/**
 * Mean and sample standard deviation of repeated measurements, shown as llama-bench shows them ({@code 12.34 ±
 * 0.56}); one sample has no spread (0).
 */
record MeanSd(double mean, double sd, int samples) {
    static MeanSd of(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        double mean = sum / values.length;
        double squares = 0;
        for (double v : values) {
            squares += (v - mean) * (v - mean);
        }
        return new MeanSd(mean, values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0, values.length);
    }

    /** e.g. {@code format("%.2f")} → {@code "12.34 ± 0.56"}, or just the mean for one sample. */
    String format(String number) {
        String m = String.format(Locale.ROOT, number, mean);
        return samples > 1 ? m + " ± " + String.format(Locale.ROOT, number, sd) : m;
    }

    /** The option both benchmarks take. */
    static int repetitions(org.popsolutions.spanker.console.support.Arguments arguments) {
        int n = arguments.integer("repetitions", 1);
        if (n < 1 || n > 1000) {
            throw new org.popsolutions.spanker.api.console.UsageException(
                    "option --repetitions must be within 1..1000, got " + n);
        }
        return n;
    }

    static final org.popsolutions.spanker.api.console.OptionSpec OPTION = org.popsolutions.spanker.api.console
            .OptionSpec.value("repetitions", "N", "repeat the measurement N times; report mean ± standard deviation",
                    "1");
}
