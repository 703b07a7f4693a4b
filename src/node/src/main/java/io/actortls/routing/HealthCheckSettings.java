package io.actortls.routing;

import java.time.Duration;

/**
 * How a pool checks its servers. {@code rise} consecutive passed checks bring a down server up, {@code fall}
 * consecutive failed ones take an up server down (HAProxy's {@code rise}/{@code fall}); a server's first check
 * decides its state on its own, see {@link HealthChecker}.
 *
 * <p>For {@link Kind#NONE} the other fields are not used and not checked; {@link #none()} leaves them null. For HTTP,
 * a null {@code httpPath} means {@code "/"} and a null {@code httpHost} means the checked server's {@code host:port}.
 */
public record HealthCheckSettings(Kind kind, Duration interval, Duration timeout, int rise, int fall,
                                  String httpPath, String httpHost, int expectStatus) {
    public enum Kind { NONE, TCP, HTTP }

    public HealthCheckSettings {
        if (kind == null) throw new IllegalArgumentException("health check kind must be set");
        if (kind != Kind.NONE) {
            if (interval == null || interval.isNegative() || interval.toMillis() < 1)
                throw new IllegalArgumentException("health check interval must be at least 1 ms, was " + interval);
            if (timeout == null || timeout.isNegative() || timeout.toMillis() < 1)
                throw new IllegalArgumentException("health check timeout must be at least 1 ms, was " + timeout);
            if (rise < 1) throw new IllegalArgumentException("health check rise must be at least 1, was " + rise);
            if (fall < 1) throw new IllegalArgumentException("health check fall must be at least 1, was " + fall);
        }
        if (kind == Kind.HTTP) {
            if (httpPath == null || httpPath.isEmpty()) httpPath = "/";
            // Both go into the request as they are: a space or line break would let them forge it.
            if (!httpPath.startsWith("/") || hasSpaceOrControl(httpPath))
                throw new IllegalArgumentException("health check HTTP path must start with / and have no spaces or control characters: "
                        + httpPath);
            if (httpHost != null && (httpHost.isEmpty() || hasSpaceOrControl(httpHost)))
                throw new IllegalArgumentException("health check HTTP host must be non-empty, with no spaces or control characters: "
                        + httpHost);
            if (expectStatus < 100 || expectStatus > 599)
                throw new IllegalArgumentException("health check expected HTTP status must be 100..599, was " + expectStatus);
        }
    }

    /** No active checks. */
    public static HealthCheckSettings none() {
        return new HealthCheckSettings(Kind.NONE, null, null, 0, 0, null, null, 0);
    }

    /** A check passes when a TCP connection is established within {@code timeout}. */
    public static HealthCheckSettings tcp(Duration interval, Duration timeout, int rise, int fall) {
        return new HealthCheckSettings(Kind.TCP, interval, timeout, rise, fall, null, null, 0);
    }

    /** A check passes when {@code GET path} answers {@code expectStatus} within {@code timeout}; a null host means host:port. */
    public static HealthCheckSettings http(Duration interval, Duration timeout, int rise, int fall,
                                           String path, String host, int expectStatus) {
        return new HealthCheckSettings(Kind.HTTP, interval, timeout, rise, fall, path, host, expectStatus);
    }

    private static boolean hasSpaceOrControl(String s) {
        return s.chars().anyMatch(c -> c <= ' ' || c == 0x7f);
    }
}
