package io.actortls.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.function.BooleanSupplier;

/**
 * The well-behaved clients of the exhaustion tests: one curl after another, each a new TLS connection through the
 * node to its backend ({@code GET /1000}, vhost "localhost"), each timed from process start to its exit, and each
 * required to succeed.
 */
public final class LegitClients {
    private final TestPki pki;
    private final int port;
    private final NodeProcess node;

    /** @param node for its output when a request fails */
    public LegitClients(TestPki pki, int port, NodeProcess node) {
        this.pki = pki;
        this.port = port;
        this.node = node;
    }

    /** One request; fails unless it is answered 200 with the body. Returns how long it took, in milliseconds. */
    public long serveOne() {
        long start = System.nanoTime();
        Curl.Response response = Curl.get(pki.caCertificate(), "localhost", port, "/1000");
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        if (response.exitCode() != 0 || response.status() != 200 || response.body().length != 1000)
            throw new AssertionError("a legitimate client was not served after " + millis + " ms: " + response.describe()
                    + "\n" + node.output());
        return millis;
    }

    /** Requests one after another for {@code period}; their durations. */
    public List<Long> serveFor(Duration period) {
        long end = System.nanoTime() + period.toNanos();
        return serveWhile(() -> System.nanoTime() < end, period);
    }

    /** Requests one after another while {@code condition} holds, for {@code atMost}; their durations. */
    public List<Long> serveWhile(BooleanSupplier condition, Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        List<Long> millis = new ArrayList<>();
        while (condition.getAsBoolean() && System.nanoTime() < end) millis.add(serveOne());
        return millis;
    }

    /** Fails unless the median and the longest of {@code millis} are within their bounds. */
    public LongSummaryStatistics assertBounded(List<Long> millis, long medianBound, long maxBound) {
        LongSummaryStatistics stats = millis.stream().mapToLong(Long::longValue).summaryStatistics();
        if (millis.isEmpty() || percentile(millis, 50) > medianBound || stats.getMax() > maxBound)
            throw new AssertionError("legitimate clients took " + describe(millis) + " ms; bounds: median " + medianBound
                    + ", max " + maxBound);
        return stats;
    }

    /** {@code n=…, median …, p90 …, max …} of durations in milliseconds. */
    public static String describe(List<Long> millis) {
        if (millis.isEmpty()) return "n=0";
        return "n=" + millis.size() + ", median " + percentile(millis, 50) + ", p90 " + percentile(millis, 90) + ", max "
                + millis.stream().mapToLong(Long::longValue).max().orElseThrow();
    }

    public static long percentile(List<Long> values, int percent) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(percent / 100.0 * sorted.size()) - 1));
    }
}
