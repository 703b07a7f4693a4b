package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.Route;

/** The nodes themselves: {@code GET /nodes} describes every node of the cluster. */
final class NodeRoutes {
    private NodeRoutes() {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        var timeout = handles.config().management().askTimeout();
        return pathPrefix("nodes", () -> pathEndOrSingleSlash(() -> get(() -> completeWithFuture(
                ClusterFanOut.<NodeAdmin.NodeInfo>askAll(system, NodeAdmin.Describe::new, timeout)
                        .thenApply(replies -> Json.ok(Map.of("nodes", replies)))))));
    }
}
