package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import io.actortls.node.NodeConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management API of one node: every route behind the token, each capability's routes in a class of its own,
 * except the dashboard's static page, which holds no data. Every call that may change something is logged: who
 * (the token's id, never the token), through what (the dashboard, the CLI, another client) and what (method and path).
 */
final class AdminRoutes {
    private AdminRoutes() {}

    private static final Logger AUDIT = LoggerFactory.getLogger("io.actortls.admin.audit");

    /** Sent by the dashboard's page with every call, so that the audit log tells its actions from the CLI's. */
    static final String CLIENT_HEADER = "X-ActorTls-Client";

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        NodeConfig.Management management = handles.config().management();
        var limit = new ApiRateLimit(management.callsPerSecond(), management.failedLoginsPerMinute());
        String tokenId = tokenId(management.token());
        return concat(DashboardRoutes.page(), TokenAuthentication.required(management.token(), limit, () -> extractRequest(request -> {
            if (!request.method().equals(HttpMethods.GET))
                AUDIT.info("management call by token {} via {}: {} {}", tokenId, client(request), request.method().value(),
                        request.getUri().path() + request.getUri().rawQueryString().map(q -> "?" + q).orElse(""));
            return concat(
                    ClusterRoutes.create(system, handles),
                    NodeRoutes.create(system, handles),
                    MetricsRoutes.create(handles),
                    LogRoutes.create(system, handles),
                    SessionRoutes.create(system, handles),
                    TicketRoutes.create(system, handles),
                    CertificateRoutes.create(system, handles),
                    PoolRoutes.create(system, handles),
                    ConnectionRoutes.create(system, handles),
                    DashboardRoutes.create(system, handles),
                    DrainRoutes.create(system, handles));
        })));
    }

    /** The first 8 hex digits of the token's SHA-256: names the token in logs without revealing it. */
    static String tokenId(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String client(HttpRequest request) {
        String named = request.getHeader(CLIENT_HEADER).map(h -> h.value())
                .or(() -> request.getHeader("User-Agent").map(h -> h.value())).orElse("an unnamed client");
        // A header is whatever the caller sent: keep the log line one line and short.
        String printable = named.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.substring(0, Math.min(printable.length(), 60));
    }
}
