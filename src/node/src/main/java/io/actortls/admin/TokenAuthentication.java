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
 * no route, so it changes nothing. The comparison takes the same time whatever the mismatch.
 */
final class TokenAuthentication {
    private TokenAuthentication() {}

    /** Pekko Management's health checks, answered by its own routes after ours: open to load balancers and probes. */
    private static final Set<String> PUBLIC = Set.of("/alive", "/ready");

    static Route required(String token, Supplier<Route> inner) {
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        return extractUnmatchedPath(path -> PUBLIC.contains(path) ? reject() : optionalHeaderValueByName("Authorization", header -> {
            if (token.isEmpty())
                return refuse("this node has no management token (set actortls.management.token or token-file)");
            if (header.isEmpty()) return refuse("missing Authorization: Bearer <token>");
            if (!MessageDigest.isEqual(expected, header.get().strip().getBytes(StandardCharsets.UTF_8)))
                return refuse("wrong token");
            return inner.get();
        }));
    }

    private static Route refuse(String why) {
        return complete(Json.response(StatusCodes.UNAUTHORIZED, Json.error(why))
                .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"actortls\"")));
    }
}
