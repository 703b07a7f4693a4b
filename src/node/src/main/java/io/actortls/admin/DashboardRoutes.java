package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;

import io.actortls.metrics.NodeMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The live cluster dashboard. {@link #page()}: the static page ({@code /}, {@code /dashboard.js},
 * {@code /dashboard.css}), open to anyone because it holds no data; it asks for the token and keeps it in the
 * browser session. {@link #create}: {@code GET /dashboard/state}, behind the token like every other call: the
 * whole cluster in one answer (membership, every node's counters, session cache, pools, close reasons), gathered
 * from the same actors the other routes ask. Counters are totals; the page turns them into rates.
 */
final class DashboardRoutes {
    private DashboardRoutes() {}

    /** One node's traffic counters, or why there are none. */
    record NodeState(String node, NodeMetrics.Figures figures, String error) {}

    /**
     * One pool: as {@code GET /pools/NAME} shows it, with the connections every node gave each server
     * ({@code picks}, summed over the nodes that answered), or why the pool's entity gave no answer.
     */
    record PoolState(String pool, PoolRoutes.PoolDetail detail, Map<String, Long> picks, String error) {}

    record State(String time, String servedBy, ClusterRoutes.ClusterView cluster, List<NodeState> nodes,
                 SessionRoutes.StatsView sessions, List<PoolState> pools, ConnectionRoutes.Reasons closes) {}

    private static final HttpResponse INDEX = asset("index.html", ContentTypes.TEXT_HTML_UTF8);
    private static final HttpResponse SCRIPT = asset("dashboard.js",
            ContentTypes.create(MediaTypes.APPLICATION_JAVASCRIPT, HttpCharsets.UTF_8));
    private static final HttpResponse STYLE = asset("dashboard.css", ContentTypes.create(MediaTypes.TEXT_CSS, HttpCharsets.UTF_8));

    /** The page and its script and style: no data, so no token needed. */
    static Route page() {
        return get(() -> concat(
                pathSingleSlash(() -> complete(INDEX)),
                path("dashboard.js", () -> complete(SCRIPT)),
                path("dashboard.css", () -> complete(STYLE))));
    }

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        Duration timeout = handles.config().management().askTimeout();
        return pathPrefix("dashboard", () -> path("state", () -> get(() ->
                completeWithFuture(state(system, handles, timeout).thenApply(Json::ok)))));
    }

    private static CompletionStage<State> state(ActorSystem<?> system, AdminServices.NodeHandles handles,
                                                Duration timeout) {
        var cluster = ClusterRoutes.view(Cluster.get(system));
        CompletableFuture<List<NodeState>> nodes = ClusterFanOut.<NodeMetrics.Figures>askAll(system,
                NodeAdmin.GetFigures::new, timeout).thenApply(replies -> replies.stream()
                .map(r -> new NodeState(r.node(), r.reply(), r.error())).toList()).toCompletableFuture();
        CompletableFuture<SessionRoutes.StatsView> sessions = SessionRoutes.stats(system, timeout).toCompletableFuture();
        CompletableFuture<ConnectionRoutes.Reasons> closes = ConnectionRoutes.reasons(system, timeout).toCompletableFuture();
        ClusterSharding sharding = ClusterSharding.get(system);
        List<CompletableFuture<PoolRoutes.PoolDetail>> details = new ArrayList<>();
        List<String> poolNames = List.copyOf(new TreeSet<>(handles.config().pools().keySet()));
        for (String pool : poolNames)
            details.add(PoolRoutes.detail(system, sharding, handles.config().pools().get(pool).routing(), timeout)
                    .toCompletableFuture());
        List<CompletableFuture<?>> all = new ArrayList<>(details);
        all.addAll(List.of(nodes, sessions, closes));
        // A pool whose entity gave no answer is shown with why; the rest of the page still updates.
        return CompletableFuture.allOf(all.stream().map(f -> f.handle((ok, failure) -> null))
                .toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<NodeState> nodeStates = nodes.join();
            List<PoolState> pools = new ArrayList<>();
            for (int i = 0; i < poolNames.size(); i++) {
                String pool = poolNames.get(i);
                Map<String, Long> picks = new TreeMap<>();
                for (NodeState n : nodeStates)
                    if (n.figures() != null)
                        n.figures().serverPicks().getOrDefault(pool, Map.of()).forEach((server, count) ->
                                picks.merge(server, count, Long::sum));
                var detail = details.get(i);
                pools.add(detail.isCompletedExceptionally()
                        ? new PoolState(pool, null, picks, "the pool's entity did not answer within " + timeout.toMillis() + " ms")
                        : new PoolState(pool, detail.join(), picks, null));
            }
            return new State(Instant.now().toString(), handles.self(), cluster, nodeStates, sessions.join(), pools,
                    closes.join());
        });
    }

    private static HttpResponse asset(String name, ContentType type) {
        try (InputStream in = DashboardRoutes.class.getResourceAsStream("/dashboard/" + name)) {
            if (in == null) throw new IllegalStateException("dashboard/" + name + " is missing from the class path");
            // The page's own files only: no inline script or style, nothing from elsewhere; never framed.
            return HttpResponse.create().withEntity(HttpEntities.create(type, in.readAllBytes())).addHeaders(List.<HttpHeader>of(
                    RawHeader.create("Cache-Control", "no-store"),
                    RawHeader.create("X-Frame-Options", "DENY"),
                    RawHeader.create("X-Content-Type-Options", "nosniff"),
                    RawHeader.create("Content-Security-Policy", "default-src 'none'; script-src 'self'; "
                            + "style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
