package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractUnmatchedPath;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.reject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Bearer-token authentication of the management API: a call without the configured token gets 401 and reaches
 * no route, so it changes nothing. The comparison takes the same time whatever the mismatch. Calls are rate
 * limited ({@link ApiRateLimit}): over the node's call rate every call gets 429; over the failed-login rate, calls
 * without the right token get 429 while the right token still works, so guessing is slowed and operators are not
 * locked out by someone else's guesses.
 */
final class TokenAuthentication {
    private TokenAuthentication() {}

    /** Pekko Management's health checks, answered by its own routes after ours: open to load balancers and probes. */
    private static final Set<String> PUBLIC = Set.of("/alive", "/ready");

    static Route required(String token, ApiRateLimit limit, Supplier<Route> inner) {
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        return extractUnmatchedPath(path -> PUBLIC.contains(path) ? reject() : optionalHeaderValueByName("Authorization", header -> {
            if (!limit.takeCall()) return tooMany("more calls per second than actortls.management.calls-per-second", 1);
            String refusal = token.isEmpty() ? "this node has no management token (set actortls.management.token or token-file)"
                    : header.isEmpty() ? "missing Authorization: Bearer <token>"
                    : !MessageDigest.isEqual(expected, header.get().strip().getBytes(StandardCharsets.UTF_8)) ? "wrong token"
                    : null;
            if (refusal == null) return inner.get();
            if (!limit.takeFailedLogin())
                return tooMany("too many calls without the right token; actortls.management.failed-logins-per-minute",
                        limit.failedLoginRetryAfterSeconds());
            return refuse(refusal);
        }));
    }

    private static Route refuse(String why) {
        return complete(Json.response(StatusCodes.UNAUTHORIZED, Json.error(why))
                .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"actortls\"")));
    }

    private static Route tooMany(String why, long retryAfterSeconds) {
        return complete(Json.response(StatusCodes.TOO_MANY_REQUESTS, Json.error(why))
                .addHeader(RawHeader.create("Retry-After", Long.toString(retryAfterSeconds))));
    }
}
