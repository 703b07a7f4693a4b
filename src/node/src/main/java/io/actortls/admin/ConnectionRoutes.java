package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;

import io.actortls.proxy.NodeConnections;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Client connections across the cluster: {@code GET /connections/top?n=10&by=age|bytes} (every node's open
 * connections, merged) and {@code GET /connections/reasons} (closes by reason per node and summed).
 */
final class ConnectionRoutes {
    private ConnectionRoutes() {}

    static final int MAX_TOP = 1000;

    /** One open connection, with the node it is open on. */
    record TopConnection(String node, String listener, String client, String vhost, String pool, String server,
                         long ageMillis, long bytesIn, long bytesOut, long backendBytesIn, long backendBytesOut) {}

    /** @param unanswered connections that did not answer in time (busy, or ended meanwhile); error: no answer */
    record NodeOpen(String node, int open, int unanswered, String error) {}

    record Top(String by, int n, List<TopConnection> connections, List<NodeOpen> nodes) {}

    record NodeCloses(String node, int open, long accepted, Map<String, Long> closed, String error) {}

    record Reasons(List<NodeCloses> nodes, NodeCloses total) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        Duration timeout = handles.config().management().askTimeout();
        return pathPrefix("connections", () -> concat(
                path("top", () -> get(() -> parameterOptional("n", nText -> parameterOptional("by", byText -> {
                    int n;
                    try {
                        n = Integer.parseInt(nText.orElse("10"));
                    } catch (NumberFormatException e) {
                        n = -1;
                    }
                    if (n < 1 || n > MAX_TOP)
                        return complete(Json.refused(StatusCodes.BAD_REQUEST, "n must be 1-" + MAX_TOP + ", not "
                                + nText.orElse("")));
                    String by = byText.orElse("age").toLowerCase(Locale.ROOT);
                    if (!by.equals("age") && !by.equals("bytes"))
                        return complete(Json.refused(StatusCodes.BAD_REQUEST, "by must be age or bytes, not " + by));
                    return top(system, n, by.equals("age") ? NodeConnections.Order.AGE : NodeConnections.Order.BYTES,
                            timeout);
                })))),
                path("reasons", () -> get(() -> completeWithFuture(reasons(system, timeout).thenApply(Json::ok))))));
    }

    /** Every node's closes by reason, and their sum. */
    static CompletionStage<Reasons> reasons(ActorSystem<?> system, Duration timeout) {
        return ClusterFanOut.<NodeConnections.Command, NodeConnections.Closes>askAll(system, NodeConnections.KEY,
                NodeConnections.GetCloses::new, timeout).thenApply(replies -> {
            List<NodeCloses> nodes = new ArrayList<>();
            int open = 0;
            long accepted = 0;
            Map<String, Long> closed = new TreeMap<>();
            for (var r : replies) {
                if (!r.answered()) {
                    nodes.add(new NodeCloses(r.node(), 0, 0, Map.of(), r.error()));
                    continue;
                }
                nodes.add(new NodeCloses(r.node(), r.reply().open(), r.reply().accepted(), r.reply().closed(), null));
                open += r.reply().open();
                accepted += r.reply().accepted();
                r.reply().closed().forEach((reason, count) -> closed.merge(reason, count, Long::sum));
            }
            return new Reasons(nodes, new NodeCloses("cluster", open, accepted, closed, null));
        });
    }

    private static Route top(ActorSystem<?> system, int n, NodeConnections.Order by, Duration timeout) {
        return completeWithFuture(ClusterFanOut.<NodeConnections.Command, NodeConnections.TopConnections>askAll(system,
                NodeConnections.KEY, replyTo -> new NodeConnections.Top(n, by, replyTo), timeout).thenApply(replies -> {
            record Ranked(String node, NodeConnections.OpenConnection connection) {}
            List<Ranked> merged = new ArrayList<>();
            List<NodeOpen> nodes = new ArrayList<>();
            for (var r : replies) {
                if (!r.answered()) {
                    nodes.add(new NodeOpen(r.node(), 0, 0, r.error()));
                    continue;
                }
                nodes.add(new NodeOpen(r.node(), r.reply().open(), r.reply().unanswered(), null));
                r.reply().top().forEach(c -> merged.add(new Ranked(r.node(), c)));
            }
            merged.sort(Comparator.comparing(Ranked::connection, NodeConnections.order(by)));
            List<TopConnection> top = merged.stream().limit(n).map(ranked -> {
                var c = ranked.connection();
                return new TopConnection(ranked.node(), c.listener(), c.client(), c.vhost(), c.pool(), c.server(),
                        c.ageMillis(), c.bytesIn(), c.bytesOut(), c.backendBytesIn(), c.backendBytesOut());
            }).toList();
            return Json.ok(new Top(by.name().toLowerCase(Locale.ROOT), n, top, nodes));
        }));
    }
}
