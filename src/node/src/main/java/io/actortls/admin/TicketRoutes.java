package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.actortls.session.TicketKeyRotator;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Session-ticket keys: {@code GET /tickets} (every node's installed generations and their ages, never a key),
 * {@code POST /tickets/rotate} (the rotator singleton rotates now; the answer comes once the new generation is
 * written to a majority, and the other nodes install it as it spreads).
 */
final class TicketRoutes {
    private TicketRoutes() {}

    record TicketsView(long rotationIntervalSeconds, List<SessionAdmin.TicketKeys> nodes, List<SessionRoutes.Missing> missing) {}

    /** The rotator's majority write may take its whole consistency timeout (5 s); then the answer travels back. */
    private static final Duration ROTATE_TIMEOUT = Duration.ofSeconds(10);

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        var timeout = handles.config().management().askTimeout();
        long interval = handles.config().tickets().rotationInterval().toSeconds();
        return pathPrefix("tickets", () -> concat(
                pathEndOrSingleSlash(() -> get(() -> completeWithFuture(ClusterFanOut.<SessionAdmin.Command, SessionAdmin.TicketKeys>askAll(
                        system, SessionAdmin.KEY, SessionAdmin.GetTicketKeys::new, timeout).thenApply(replies -> Json.ok(
                        new TicketsView(interval, replies.stream().filter(ClusterFanOut.NodeReply::answered)
                                .map(ClusterFanOut.NodeReply::reply).toList(), SessionRoutes.missing(replies))))))),
                path("rotate", () -> post(() -> completeWithFuture(AskPattern.<TicketKeyRotator.Command, TicketKeyRotator.Rotated>ask(
                        handles.ticketKeyRotator(), TicketKeyRotator.RotateNow::new, ROTATE_TIMEOUT, system.scheduler())
                        .handle((rotated, failure) -> {
                            if (failure != null)
                                return Json.refused(StatusCodes.SERVICE_UNAVAILABLE, "the ticket-key rotator did not answer within "
                                        + ROTATE_TIMEOUT.toSeconds() + " s (is the cluster's oldest node reachable?)");
                            if (rotated.error() != null) return Json.refused(StatusCodes.SERVICE_UNAVAILABLE, rotated.error());
                            return Json.ok(Map.of("generation", rotated.generation()));
                        }))))));
    }
}
