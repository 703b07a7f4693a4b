package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code POST /node/drain[?node=host:port]}: stops a node gracefully (default: the node called), the way SIGTERM
 * does. Answers 202 once the node has started draining: {@code {"node", "drainDeadlineSeconds", "message"}}.
 */
final class DrainRoutes {
    private DrainRoutes() {}

    record DrainAccepted(String node, long drainDeadlineSeconds, String message) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        var timeout = handles.config().management().askTimeout();
        return pathPrefix("node", () -> path("drain", () -> post(() -> parameterOptional("node", node ->
                completeWithFuture(drain(system, node.orElse(handles.self()), timeout))))));
    }

    private static CompletionStage<HttpResponse> drain(ActorSystem<?> system, String node, java.time.Duration timeout) {
        String self = handles(system).self();
        return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
                        replyTo -> Receptionist.find(NodeAdmin.KEY, replyTo), timeout, system.scheduler())
                .thenCompose(listing -> {
                    var admin = listing.getServiceInstances(NodeAdmin.KEY).stream().filter(a -> {
                        var address = a.path().address();
                        return node.equals(address.hasGlobalScope() ? ClusterFanOut.hostPort(address) : self);
                    }).findFirst();
                    if (admin.isEmpty())
                        return CompletableFuture.completedFuture(Json.refused(StatusCodes.NOT_FOUND,
                                node + " is not a node of this cluster (see `actortls nodes`)"));
                    return AskPattern.<NodeAdmin.Command, NodeAdmin.DrainStarted>ask(admin.get(), NodeAdmin.Drain::new,
                            timeout, system.scheduler()).thenApply(started -> Json.response(StatusCodes.ACCEPTED,
                            new DrainAccepted(started.node(), started.drainDeadlineSeconds(), started.node()
                                    + " is draining: it refuses new connections, lets open ones finish for up to "
                                    + started.drainDeadlineSeconds() + " s, hands its pools over and leaves the cluster")));
                });
    }

    private static AdminServices.NodeHandles handles(ActorSystem<?> system) {
        return AdminServices.get(system).handles();
    }
}
