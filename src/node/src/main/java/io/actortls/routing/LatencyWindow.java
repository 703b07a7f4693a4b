package io.actortls.routing;

import java.util.Arrays;

/**
 * Latencies recorded since the last {@link #drain}: the most recent {@value #CAPACITY} are kept, so a summary
 * costs a bounded sort however busy the node was. Owned by one actor.
 */
final class LatencyWindow {
    private static final int CAPACITY = 16_384;

    record Summary(long count, long p50Micros, long p99Micros, long maxMicros) {}

    private final long[] nanos = new long[CAPACITY];
    private long count;
    private long max;

    void record(long latencyNanos) {
        nanos[(int) (count % CAPACITY)] = latencyNanos;
        count++;
        max = Math.max(max, latencyNanos);
    }

    Summary drain() {
        int kept = (int) Math.min(count, CAPACITY);
        long[] sorted = Arrays.copyOf(nanos, kept);
        Arrays.sort(sorted);
        Summary summary = kept == 0 ? new Summary(0, 0, 0, 0)
                : new Summary(count, sorted[(kept - 1) / 2] / 1000, sorted[(int) Math.ceil(kept * 0.99) - 1] / 1000, max / 1000);
        count = 0;
        max = 0;
        return summary;
    }
}
