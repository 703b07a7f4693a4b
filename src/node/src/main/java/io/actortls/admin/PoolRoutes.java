package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameter;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.actortls.node.NodeConfig;
import io.actortls.routing.AdminState;
import io.actortls.routing.PoolEntity;
import io.actortls.routing.PoolGateway;
import io.actortls.routing.PoolSpec;
import io.actortls.routing.PoolView;
import io.actortls.routing.ServerSpec;
import io.actortls.routing.ServerView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Backend pools: list and show (from each pool's entity, with every node's open connections per server), and
 * server changes, which the pool's entity makes for the whole cluster (it keeps them in Distributed Data and
 * every node balances on its next view at once). A change the entity refuses (unknown server, weight out of
 * range, a duplicate name) answers 404 for an unknown server and 409 otherwise, with the entity's message.
 */
final class PoolRoutes {
    private PoolRoutes() {}

    /** One pool in the list. {@code connections} are the cluster's, as the nodes report them. */
    record PoolSummary(String pool, String algorithm, String scope, int servers, int healthy, int available,
                       int connections, int waiting, String entityNode, String error) {}

    /**
     * One server of a pool.
     *
     * @param weight            the weight now (runtime changes included); configuredWeight: the configuration's,
     *                          null for a server added at runtime
     * @param effectiveWeight   after slow start
     * @param connections       open connections across the cluster (sum of connectionsByNode)
     * @param connectionsByNode node (host:port) → connections it holds to the server; nodes without any left out
     */
    record ServerDetail(String name, String address, int weight, Integer configuredWeight, double effectiveWeight,
                        String admin, String health, String healthReason, int maxConnections, int connections,
                        Map<String, Integer> connectionsByNode) {}

    record QueueFigures(int waiting, int maxWaiting, long timeoutMillis) {}

    /** @param unanswered nodes whose connection counts are missing from the figures, with why */
    record PoolDetail(String pool, String algorithm, String scope, String entityNode, QueueFigures queue,
                      List<ServerDetail> servers, Map<String, String> unanswered) {}

    record Changed(String pool, String server, String message) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        Duration timeout = handles.config().management().askTimeout();
        ClusterSharding sharding = ClusterSharding.get(system);
        Map<String, NodeConfig.Pool> pools = handles.config().pools();
        Function<String, Function<Function<ActorRef<PoolEntity.AdminResult>, PoolEntity.Command>, Route>> change =
                pool -> question -> completeWithFuture(sharding.entityRefFor(PoolEntity.TYPE, pool)
                        .<PoolEntity.AdminResult>ask(question::apply, timeout)
                        .thenApply(result -> result.ok() ? Json.ok(result)
                                : Json.refused(result.message().contains(" has no server ") ? StatusCodes.NOT_FOUND
                                : StatusCodes.CONFLICT, result.message()))
                        .exceptionally(failure -> noAnswer(pool, timeout)));
        return pathPrefix("pools", () -> concat(
                pathEndOrSingleSlash(() -> get(() -> completeWithFuture(list(system, sharding, pools, timeout)))),
                pathPrefix(segment(), pool -> {
                    if (!pools.containsKey(pool))
                        return complete(Json.refused(StatusCodes.NOT_FOUND, "no pool " + pool + " (pools: "
                                + String.join(", ", new TreeSet<>(pools.keySet())) + ")"));
                    var ask = change.apply(pool);
                    return concat(
                            pathEndOrSingleSlash(() -> get(() -> completeWithFuture(
                                    show(system, sharding, pools.get(pool).routing(), timeout)))),
                            path("servers", () -> post(() -> parameter("name", name -> parameter("address", address ->
                                    parameterOptional("weight", weight -> parameterOptional("max-connections", max ->
                                            addServer(name, address, weight, max, ask))))))),
                            pathPrefix("servers", () -> pathPrefix(segment(), server -> serverRoutes(server, ask))));
                })));
    }

    /** Changes to one server: remove, weight, drain, enable, disable. */
    private static Route serverRoutes(String server,
                                      Function<Function<ActorRef<PoolEntity.AdminResult>, PoolEntity.Command>, Route> ask) {
        return concat(
                pathEndOrSingleSlash(() -> delete(() -> ask.apply(r -> new PoolEntity.RemoveServer(server, r)))),
                path("weight", () -> put(() -> parameter("value", text -> {
                    Optional<Integer> weight = integer(text);
                    if (weight.isEmpty()) return badRequest("weight must be a whole number, not " + text);
                    return ask.apply(r -> new PoolEntity.SetWeight(server, weight.get(), r));
                }))),
                path(segment(), action -> post(() -> {
                    Optional<AdminState> state = switch (action) {
                        case "drain" -> Optional.of(AdminState.DRAINING);
                        case "enable" -> Optional.of(AdminState.ENABLED);
                        case "disable" -> Optional.of(AdminState.DISABLED);
                        default -> Optional.empty();
                    };
                    if (state.isEmpty())
                        return complete(Json.refused(StatusCodes.NOT_FOUND, "no server action " + action
                                + " (drain, enable, disable)"));
                    return ask.apply(r -> new PoolEntity.SetAdminState(server, state.get(), r));
                })));
    }

    private static Route addServer(String name, String address, Optional<String> weightText,
                                   Optional<String> maxText,
                                   Function<Function<ActorRef<PoolEntity.AdminResult>, PoolEntity.Command>, Route> ask) {
        int colon = address.lastIndexOf(':');
        Optional<Integer> port = colon <= 0 ? Optional.empty() : integer(address.substring(colon + 1));
        if (port.isEmpty()) return badRequest("address must be host:port, not " + address);
        Optional<Integer> weight = weightText.isEmpty() ? Optional.of(1) : integer(weightText.get());
        if (weight.isEmpty()) return badRequest("weight must be a whole number, not " + weightText.get());
        Optional<Integer> max = maxText.isEmpty() ? Optional.of(0) : integer(maxText.get());
        if (max.isEmpty() || max.get() < 0)
            return badRequest("max-connections must be a whole number, 0 or more, not " + maxText.get());
        if (name.isBlank()) return badRequest("a server needs a name");
        ServerSpec spec = new ServerSpec(name, address.substring(0, colon), port.get(), weight.get(), max.get());
        return ask.apply(r -> new PoolEntity.AddServer(spec, r));
    }

    private static CompletionStage<HttpResponse> list(ActorSystem<?> system, ClusterSharding sharding,
                                                      Map<String, NodeConfig.Pool> pools, Duration timeout) {
        CompletionStage<Map<String, Held>> held = held(system, timeout);
        List<CompletableFuture<PoolSummary>> summaries = new ArrayList<>();
        for (String name : new TreeSet<>(pools.keySet())) {
            PoolSpec spec = pools.get(name).routing();
            summaries.add(view(sharding, spec.name(), timeout).thenCombine(held, (view, byNode) -> {
                int healthy = (int) view.servers().stream().filter(ServerView::healthy).count();
                int available = (int) view.servers().stream().filter(ServerView::available).count();
                int connections = byNode.values().stream().mapToInt(h -> h.total(spec.name())).sum();
                return new PoolSummary(spec.name(), spec.algorithm().label(), scope(spec), view.servers().size(), healthy,
                        available, connections, view.waiting(), view.entityNode(), null);
            }).exceptionally(failure -> new PoolSummary(spec.name(), spec.algorithm().label(), scope(spec),
                    spec.servers().size(), 0, 0, 0, 0, null, "the pool's entity did not answer within "
                    + timeout.toMillis() + " ms")).toCompletableFuture());
        }
        return CompletableFuture.allOf(summaries.toArray(CompletableFuture[]::new)).thenApply(done ->
                Json.ok(Map.of("pools", summaries.stream().map(CompletableFuture::join).toList())));
    }

    private static CompletionStage<HttpResponse> show(ActorSystem<?> system, ClusterSharding sharding, PoolSpec spec,
                                                      Duration timeout) {
        return detail(system, sharding, spec, timeout).thenApply(Json::ok)
                .exceptionally(failure -> noAnswer(spec.name(), timeout));
    }

    /** One pool as {@code GET /pools/NAME} shows it; fails when the pool's entity does not answer in time. */
    static CompletionStage<PoolDetail> detail(ActorSystem<?> system, ClusterSharding sharding, PoolSpec spec,
                                              Duration timeout) {
        return view(sharding, spec.name(), timeout).thenCombine(held(system, timeout), (view, byNode) -> {
            Map<String, String> unanswered = new TreeMap<>();
            byNode.forEach((node, h) -> {
                if (h.error() != null) unanswered.put(node, h.error());
            });
            List<ServerDetail> servers = new ArrayList<>();
            for (ServerView s : view.servers()) {
                Map<String, Integer> perNode = new TreeMap<>();
                byNode.forEach((node, h) -> {
                    int n = h.of(spec.name(), s.spec().name());
                    if (n > 0) perNode.put(node, n);
                });
                Integer configured = spec.servers().stream().filter(c -> c.name().equals(s.spec().name()))
                        .map(ServerSpec::weight).findFirst().orElse(null);
                servers.add(new ServerDetail(s.spec().name(), s.spec().address(), s.spec().weight(), configured,
                        Math.round(s.effectiveWeight() * 100) / 100.0, s.admin().label(), s.healthy() ? "up" : "down",
                        s.healthReason(), s.spec().maxConnections(),
                        perNode.values().stream().mapToInt(Integer::intValue).sum(), perNode));
            }
            return new PoolDetail(spec.name(), spec.algorithm().label(), scope(spec), view.entityNode(),
                    new QueueFigures(view.waiting(), spec.queueMaxWaiting(), spec.queueTimeout().toMillis()),
                    servers, unanswered);
        });
    }

    /** One node's open connections by pool and server, or why they are unknown. */
    private record Held(Map<String, Map<String, Integer>> byPool, String error) {
        int total(String pool) {
            return byPool.getOrDefault(pool, Map.of()).values().stream().mapToInt(Integer::intValue).sum();
        }

        int of(String pool, String server) {
            return byPool.getOrDefault(pool, Map.of()).getOrDefault(server, 0);
        }
    }

    /** Every node's gateway holds the leases of its own connections: the truth for both pool scopes. */
    private static CompletionStage<Map<String, Held>> held(ActorSystem<?> system, Duration timeout) {
        return ClusterFanOut.<PoolGateway.Command, PoolGateway.HeldConnections>askAll(system, PoolGateway.KEY,
                PoolGateway.GetHeld::new, timeout).thenApply(replies -> {
            Map<String, Held> byNode = new TreeMap<>();
            for (var reply : replies)
                byNode.put(reply.node(), reply.answered() ? new Held(reply.reply().byPool(), null)
                        : new Held(Map.of(), reply.error()));
            return byNode;
        });
    }

    private static CompletionStage<PoolView> view(ClusterSharding sharding, String pool, Duration timeout) {
        return sharding.entityRefFor(PoolEntity.TYPE, pool).ask(PoolEntity.GetView::new, timeout);
    }

    private static String scope(PoolSpec spec) {
        return spec.clusterWide() ? "cluster" : "node";
    }

    private static Optional<Integer> integer(String text) {
        try {
            return Optional.of(Integer.parseInt(text.strip()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Route badRequest(String message) {
        return complete(Json.refused(StatusCodes.BAD_REQUEST, message));
    }

    private static HttpResponse noAnswer(String pool, Duration timeout) {
        return Json.refused(StatusCodes.SERVICE_UNAVAILABLE, "the entity of pool " + pool + " did not answer within "
                + timeout.toMillis() + " ms");
    }
}
