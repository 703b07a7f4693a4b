package io.actortls.admin;

/**
 * The management API's two token buckets, one per node: all calls (a flood must not starve the node's actors),
 * and calls that fail authentication (guessing the token takes years, not hours). Thread-safe: Pekko HTTP
 * serves calls concurrently.
 */
final class ApiRateLimit {
    private final Bucket calls;
    private final Bucket failedLogins;

    /**
     * @param callsPerSecond         every call, sustained; bursts of up to that many at once
     * @param failedLoginsPerMinute  calls without the right token, sustained; bursts of up to that many
     */
    ApiRateLimit(int callsPerSecond, int failedLoginsPerMinute) {
        calls = new Bucket(callsPerSecond, 1_000_000_000L / callsPerSecond);
        failedLogins = new Bucket(failedLoginsPerMinute, 60_000_000_000L / failedLoginsPerMinute);
    }

    /** Takes one call; false if the node is over its call rate. */
    boolean takeCall() {
        return calls.take();
    }

    /** Takes one failed login; false if too many failed lately: the caller then gets 429, not 401. */
    boolean takeFailedLogin() {
        return failedLogins.take();
    }

    /** Seconds until a failed login would be taken again (for Retry-After). */
    long failedLoginRetryAfterSeconds() {
        return failedLogins.secondsUntilNext();
    }

    private static final class Bucket {
        private final int capacity;
        private final long nanosPerToken;
        private double tokens;
        private long lastNanos = System.nanoTime();

        Bucket(int capacity, long nanosPerToken) {
            this.capacity = capacity;
            this.nanosPerToken = nanosPerToken;
            this.tokens = capacity;
        }

        synchronized boolean take() {
            refill();
            if (tokens < 1) return false;
            tokens -= 1;
            return true;
        }

        synchronized long secondsUntilNext() {
            refill();
            return tokens >= 1 ? 0 : Math.max(1, (long) Math.ceil((1 - tokens) * nanosPerToken / 1e9));
        }

        private void refill() {
            long now = System.nanoTime();
            tokens = Math.min(capacity, tokens + (double) (now - lastNanos) / nanosPerToken);
            lastNanos = now;
        }
    }
}
