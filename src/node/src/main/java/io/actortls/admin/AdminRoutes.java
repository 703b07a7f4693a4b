package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import io.actortls.node.NodeConfig;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The management API of one node: every route behind the token, each capability's routes in a class of its own.
 * Every call that may change something is logged (method and path; never the token).
 */
final class AdminRoutes {
    private AdminRoutes() {}

    private static final Logger AUDIT = LoggerFactory.getLogger("io.actortls.admin.audit");

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        NodeConfig.Management management = handles.config().management();
        var limit = new ApiRateLimit(management.callsPerSecond(), management.failedLoginsPerMinute());
        return TokenAuthentication.required(management.token(), limit, () -> extractRequest(request -> {
            if (!request.method().equals(HttpMethods.GET))
                AUDIT.info("management call {} {}", request.method().value(), request.getUri().path()
                        + request.getUri().rawQueryString().map(q -> "?" + q).orElse(""));
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

                    DrainRoutes.create(system, handles));
        }));
    }
}
