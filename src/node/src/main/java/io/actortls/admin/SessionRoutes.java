package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.actortls.session.SessionReplicator;
import io.actortls.session.SessionStats;
import io.actortls.session.SessionSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The cluster session cache: {@code GET /sessions/stats} (every node's counters and their sum),
 * {@code GET /sessions/lookup?prefix=HEX} (sessions by ID prefix: metadata only, never the session or its
 * secrets), {@code POST /sessions/flush} (every node revokes every session it holds).
 */
final class SessionRoutes {
    private SessionRoutes() {}

    /** Shortest prefix looked up: fewer hex digits would list most of the cache. */
    static final int MIN_PREFIX = 4;
    static final int DEFAULT_LIMIT = 100;

    /** A node that gave no answer, and why. */
    record Missing(String node, String error) {}

    record StatsView(SessionStats cluster, List<SessionStats> nodes, List<Missing> missing) {}

    /** One session as the cluster holds it, with the nodes whose cache holds it. */
    record SessionView(String id, String vhost, String protocol, String kind, String created, String expires,
                       String origin, List<String> heldBy) {}

    record LookupView(String prefix, List<SessionView> sessions, boolean truncated, List<Missing> missing) {}

    record NodeFlush(String node, long revoked) {}

    /** @param flushed the most sessions any one node revoked (each node holds the whole cache) */
    record FlushView(long flushed, List<NodeFlush> nodes, List<Missing> missing) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        var timeout = handles.config().management().askTimeout();
        return pathPrefix("sessions", () -> concat(
                path("stats", () -> get(() -> completeWithFuture(stats(system, timeout).thenApply(Json::ok)))),
                path("lookup", () -> get(() -> parameterOptional("prefix", prefix -> parameterOptional("limit", limit -> {
                    String hex = prefix.orElse("").strip().toLowerCase(Locale.ROOT);
                    if (!hex.matches("[0-9a-f]{" + MIN_PREFIX + ",64}"))
                        return complete(Json.refused(StatusCodes.BAD_REQUEST, "prefix must be " + MIN_PREFIX
                                + " to 64 hex digits of a session ID, not \"" + prefix.orElse("") + "\""));
                    int max;
                    try {
                        max = limit.map(Integer::parseInt).orElse(DEFAULT_LIMIT);
                    } catch (NumberFormatException e) {
                        max = -1;
                    }
                    if (max < 1) return complete(Json.refused(StatusCodes.BAD_REQUEST, "limit must be a positive number"));
                    int most = max;
                    return completeWithFuture(ClusterFanOut.<SessionAdmin.Command, SessionAdmin.Found>askAll(system,
                            SessionAdmin.KEY, replyTo -> new SessionAdmin.Lookup(hex, most + 1, replyTo), timeout)
                            .thenApply(replies -> Json.ok(lookup(hex, most, replies))));
                })))),
                path("flush", () -> post(() -> completeWithFuture(ClusterFanOut.<SessionAdmin.Command, SessionReplicator.Flushed>askAll(
                        system, SessionAdmin.KEY, SessionAdmin.Flush::new, timeout).thenApply(replies -> {
                    List<NodeFlush> nodes = replies.stream().filter(ClusterFanOut.NodeReply::answered)
                            .map(r -> new NodeFlush(r.node(), r.reply().revoked())).toList();
                    List<Missing> missing = missing(replies);
                    if (!missing.isEmpty())
                        return Json.response(StatusCodes.CONFLICT, Map.of("error", "flushed on " + nodes.size()
                                        + " node(s), but " + describe(missing) + ": those may still resume their sessions until the flush reaches them",
                                "nodes", nodes, "missing", missing));
                    return Json.ok(new FlushView(nodes.stream().mapToLong(NodeFlush::revoked).max().orElse(0), nodes, missing));
                }))))));
    }

    /** Every node's session-cache counters, their sum, and the nodes that gave no answer. */
    static CompletionStage<StatsView> stats(ActorSystem<?> system, Duration timeout) {
        return ClusterFanOut.<SessionAdmin.Command, SessionStats>askAll(system, SessionAdmin.KEY, SessionAdmin.GetStats::new,
                timeout).thenApply(replies -> {
            List<SessionStats> nodes = replies.stream().filter(ClusterFanOut.NodeReply::answered)
                    .map(ClusterFanOut.NodeReply::reply).toList();
            return new StatsView(SessionStats.sum("cluster", nodes), nodes, missing(replies));
        });
    }

    /** Every node's matches, merged by session ID, oldest first. */
    private static LookupView lookup(String prefix, int limit, List<ClusterFanOut.NodeReply<SessionAdmin.Found>> replies) {
        Map<String, SessionSummary> byId = new LinkedHashMap<>();
        Map<String, TreeSet<String>> holders = new LinkedHashMap<>();
        boolean truncated = false;
        for (var reply : replies) {
            if (!reply.answered()) continue;
            truncated |= reply.reply().sessions().size() > limit;
            for (SessionSummary s : reply.reply().sessions()) {
                byId.putIfAbsent(s.id(), s);
                holders.computeIfAbsent(s.id(), id -> new TreeSet<>()).add(reply.node());
            }
        }
        List<SessionView> sessions = new ArrayList<>();
        byId.values().stream().sorted(Comparator.comparing(SessionSummary::created)).forEach(s -> sessions.add(
                new SessionView(s.id(), s.vhost(), s.protocol(), s.kind(), s.created(), s.expires(), s.origin(),
                        List.copyOf(holders.get(s.id())))));
        truncated |= sessions.size() > limit;
        return new LookupView(prefix, sessions.size() > limit ? sessions.subList(0, limit) : sessions, truncated,
                missing(replies));
    }

    static List<Missing> missing(List<? extends ClusterFanOut.NodeReply<?>> replies) {
        return replies.stream().filter(r -> !r.answered()).map(r -> new Missing(r.node(), r.error())).toList();
    }

    static String describe(List<Missing> missing) {
        return String.join(", ", missing.stream().map(m -> m.node() + " gave no answer (" + m.error() + ")").toList());
    }
}
