package io.actortls.routing;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.node.ClusterMessage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * One backend pool for the whole cluster, as a Cluster Sharding entity: it knows every node's open connections
 * to every server (as leases the nodes' {@link PoolGateway}s hold), chooses the server for each new connection,
 * queues connections while all servers are at max-connections, runs the active health checks, hears passive
 * failures from every node, and applies runtime changes (weights, drain, servers added or removed).
 *
 * <p>Counts are leases, not numbers, so that they survive failure without double counting: a lease is
 * (node, id) → server. When the entity starts (first use, rebalance, crash of its node) it asks every gateway
 * for the leases it holds and adds them to what it has (a set union: a lease it granted and hears of again
 * counts once). Messages from one gateway arrive in order, so a release always follows the grant or snapshot
 * it undoes. When a node leaves the cluster its leases go with it.
 *
 * <p>Runtime changes live in Distributed Data ({@link ServerOverride} per server), read before the entity
 * serves its first pick, so they outlive the entity moving.
 */
public final class PoolEntity extends AbstractBehavior<PoolEntity.Command> {

    public static final EntityTypeKey<Command> TYPE = EntityTypeKey.create(Command.class, "pool");

    public sealed interface Command extends ClusterMessage {}

    // From the gateways.
    /** The leases {@code node} holds in this pool, sent when the gateway starts, when asked, and while picking locally. */
    public record Snapshot(String node, ActorRef<PoolGateway.Command> gateway, Map<Long, String> leases) implements Command {}
    public record Pick(String node, long leaseId, String clientIp, List<String> exclude,
                       ActorRef<PoolGateway.Command> replyTo) implements Command {}
    public record Release(String node, long leaseId) implements Command {}
    /** A node's passive observation: a connect to {@code server} failed, or succeeded after failures. */
    public record Observed(String server, boolean failed, String detail) implements Command {}

    // The admin API (the CLI and management routes use these; any node's sharding reaches the entity).
    public record GetView(ActorRef<PoolView> replyTo) implements Command {}
    public record AddServer(ServerSpec server, ActorRef<AdminResult> replyTo) implements Command {}
    public record RemoveServer(String server, ActorRef<AdminResult> replyTo) implements Command {}
    public record SetWeight(String server, int weight, ActorRef<AdminResult> replyTo) implements Command {}
    public record SetAdminState(String server, AdminState state, ActorRef<AdminResult> replyTo) implements Command {}
    public record AdminResult(boolean ok, String message) implements ClusterMessage {}

    // Internal.
    private record HealthReported(HealthChecker.Report report) implements Command {}
    private record NodeRemoved(String node) implements Command {}
    private record GatewaysListed(Set<ActorRef<PoolGateway.Command>> gateways) implements Command {}
    private record OverridesLoaded(Map<String, ServerOverride> overrides) implements Command {}
    private record OverridesUnread() implements Command {}
    private record OverrideWritten(ServerOverride override, boolean ok, ActorRef<AdminResult> replyTo,
                                   String message) implements Command {}
    private enum Tick implements Command { INSTANCE }
    private enum LogStats implements Command { INSTANCE }

    /** Why a pick was refused; the connection closes with the matching reason. */
    public enum Refusal { NO_SERVER, QUEUE_FULL, QUEUE_TIMEOUT }

    private static final Duration TICK = Duration.ofMillis(100);
    /** Gateways balance on these counts only when the entity does not answer: once a second is enough. */
    private static final Duration COUNTS_BROADCAST = Duration.ofSeconds(1);
    private static final Duration OVERRIDE_WRITE_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration OVERRIDE_READ_TIMEOUT = Duration.ofSeconds(2);
    private static final double SLOW_START_FLOOR = 0.1;

    public static Behavior<Command> create(String poolName, Map<String, PoolSpec> pools, String selfNode,
                                           Duration statsInterval) {
        return Behaviors.setup(ctx -> {
            PoolSpec spec = pools.get(poolName);
            if (spec == null) {
                ctx.getLog().error("pool {} is not configured on this node; every node must define the same pools", poolName);
                return Behaviors.stopped();
            }
            return DistributedData.<Command, LWWMap<String, ServerOverride>>withReplicatorMessageAdapter(replicator ->
                    Behaviors.withTimers(timers -> Behaviors.withStash(10_000, stash -> {
                        Key<LWWMap<String, ServerOverride>> key = overridesKey(poolName);
                        // Picks wait (stashed) until the runtime changes are known: a drained server must not get one.
                        // A majority read, because this node may have joined a moment ago; its own copy if that fails.
                        replicator.askGet(replyTo -> new Replicator.Get<>(key, new Replicator.ReadMajority(OVERRIDE_READ_TIMEOUT), replyTo),
                                PoolEntity::overridesRead);
                        return Behaviors.receive(Command.class)
                                .onMessage(OverridesLoaded.class, loaded -> stash.unstashAll(new PoolEntity(ctx, timers,
                                        replicator, key, spec, selfNode, statsInterval, loaded.overrides())))
                                .onMessage(OverridesUnread.class, m -> {
                                    replicator.askGet(replyTo -> new Replicator.Get<>(key, Replicator.readLocal(), replyTo),
                                            PoolEntity::overridesRead);
                                    return Behaviors.same();
                                })
                                .onAnyMessage(m -> {
                                    stash.stash(m);
                                    return Behaviors.same();
                                })
                                .build();
                    })));
        });
    }

    private static Command overridesRead(Replicator.GetResponse<LWWMap<String, ServerOverride>> response) {
        return switch (response) {
            case Replicator.GetSuccess<LWWMap<String, ServerOverride>> ok -> new OverridesLoaded(ok.get(ok.key()).getEntries());
            case Replicator.NotFound<LWWMap<String, ServerOverride>> none -> new OverridesLoaded(Map.of());
            default -> new OverridesUnread();
        };
    }

    static Key<LWWMap<String, ServerOverride>> overridesKey(String pool) {
        return LWWMapKey.create("pool-overrides-" + pool);
    }

    /** A server's state inside the entity. */
    private static final class Server {
        ServerSpec spec;
        AdminState admin = AdminState.ENABLED;
        boolean healthy = true;
        String healthReason = "not checked yet";
        long upSinceNanos;              // for slow start
        int active;
        int passiveFailures;
        long passiveRetryAtNanos;       // taken down passively without active checks: try again then (0: not)
        long drainStartedNanos;
        boolean evicted;                // its connections were told to close (disabled, or drain deadline)
        ActorRef<HealthChecker.Command> checker;

        /** @param upSinceNanos when it came up: a server the pool already had is not slow-started again */
        Server(ServerSpec spec, long upSinceNanos) {
            this.spec = spec;
            this.upSinceNanos = upSinceNanos;
        }
    }

    private record Waiting(String node, long leaseId, String clientIp, List<String> exclude,
                           ActorRef<PoolGateway.Command> replyTo, long sinceNanos) {}

    private final TimerScheduler<Command> timers;
    private final ReplicatorMessageAdapter<Command, LWWMap<String, ServerOverride>> replicator;
    private final Key<LWWMap<String, ServerOverride>> overridesKey;
    private final SelfUniqueAddress selfUniqueAddress;
    private final PoolSpec spec;
    private final String selfNode;
    private final Balancer balancer;
    private final Map<String, Server> servers = new LinkedHashMap<>();
    private final Map<String, Map<Long, String>> leasesByNode = new HashMap<>();
    private final Map<String, ActorRef<PoolGateway.Command>> gateways = new HashMap<>();
    private final Set<ActorRef<PoolGateway.Command>> askedForLeases = new HashSet<>();
    private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
    private final ActorRef<HealthChecker.Report> healthAdapter;
    private boolean countsChanged;
    private long lastCountsBroadcastNanos;
    private long granted, refused, queued;

    private PoolEntity(ActorContext<Command> ctx, TimerScheduler<Command> timers,
                       ReplicatorMessageAdapter<Command, LWWMap<String, ServerOverride>> replicator,
                       Key<LWWMap<String, ServerOverride>> overridesKey, PoolSpec spec, String selfNode,
                       Duration statsInterval, Map<String, ServerOverride> overrides) {
        super(ctx);
        this.timers = timers;
        this.replicator = replicator;
        this.overridesKey = overridesKey;
        this.selfUniqueAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
        this.spec = spec;
        this.selfNode = selfNode;
        this.balancer = spec.algorithm().newBalancer();
        this.healthAdapter = ctx.messageAdapter(HealthChecker.Report.class, HealthReported::new);

        long now = System.nanoTime();
        // An entity starting (first use, or moved to this node) finds servers that were already serving.
        long longUp = now - spec.slowStart().toNanos();
        for (ServerSpec s : spec.servers()) servers.put(s.name(), new Server(s, longUp));
        overrides.forEach((name, o) -> applyOverride(name, o, now, false));
        servers.values().forEach(this::startChecker);

        Cluster cluster = Cluster.get(ctx.getSystem());
        cluster.subscriptions().tell(Subscribe.create(ctx.messageAdapter(ClusterEvent.MemberRemoved.class,
                e -> new NodeRemoved(e.member().address().toString())), ClusterEvent.MemberRemoved.class));
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(PoolGateway.KEY,
                ctx.messageAdapter(Receptionist.Listing.class, l -> new GatewaysListed(l.getServiceInstances(PoolGateway.KEY)))));
        replicator.subscribe(overridesKey, response -> response instanceof Replicator.Changed<LWWMap<String, ServerOverride>> c
                ? new OverridesLoaded(c.get(overridesKey).getEntries()) : new OverridesLoaded(Map.of()));
        timers.startTimerWithFixedDelay(Tick.INSTANCE, TICK);
        if (!statsInterval.isZero()) timers.startTimerWithFixedDelay(LogStats.INSTANCE, statsInterval);
        ctx.getLog().info("pool entity started {} {} {} {}", kv("pool", spec.name()), kv("node", selfNode),
                kv("algorithm", spec.algorithm().label()), kv("servers", servers.keySet()));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Snapshot.class, this::onSnapshot)
                .onMessage(Pick.class, this::onPick)
                .onMessage(Release.class, m -> {
                    release(m.node(), m.leaseId());
                    return this;
                })
                .onMessage(Observed.class, this::onObserved)
                .onMessage(GetView.class, m -> {
                    m.replyTo().tell(view());
                    return this;
                })
                .onMessage(AddServer.class, this::onAddServer)
                .onMessage(RemoveServer.class, m -> change(m.server(), m.replyTo(), s ->
                        new ServerOverride(s.spec, s.admin, true), "removed " + m.server()))
                .onMessage(SetWeight.class, m -> {
                    if (m.weight() < 1 || m.weight() > 1000)
                        return reply(m.replyTo(), false, "weight must be 1-1000, not " + m.weight());
                    return change(m.server(), m.replyTo(), s -> new ServerOverride(new ServerSpec(s.spec.name(),
                            s.spec.host(), s.spec.port(), m.weight(), s.spec.maxConnections()), s.admin, false),
                            m.server() + " weight " + m.weight());
                })
                .onMessage(SetAdminState.class, m -> change(m.server(), m.replyTo(), s ->
                        new ServerOverride(s.spec, m.state(), false), m.server() + " " + m.state().label()))
                .onMessage(OverrideWritten.class, this::onOverrideWritten)
                .onMessage(OverridesLoaded.class, m -> {
                    long now = System.nanoTime();
                    m.overrides().forEach((name, o) -> applyOverride(name, o, now, true));
                    broadcastView();
                    serveQueue();
                    return this;
                })
                .onMessage(HealthReported.class, m -> onHealth(m.report()))
                .onMessage(NodeRemoved.class, this::onNodeRemoved)
                .onMessage(GatewaysListed.class, this::onGatewaysListed)
                .onMessage(Tick.class, m -> onTick())
                .onMessage(LogStats.class, m -> {
                    logStats();
                    return this;
                })
                .build();
    }

    // ---- leases -------------------------------------------------------------------------------------------------

    private Behavior<Command> onSnapshot(Snapshot m) {
        gateways.put(m.node(), m.gateway());
        askedForLeases.add(m.gateway());
        Map<Long, String> held = leasesByNode.computeIfAbsent(m.node(), n -> new HashMap<>());
        int added = 0;
        for (var lease : m.leases().entrySet()) {
            Server server = servers.get(lease.getValue());
            if (server != null && held.putIfAbsent(lease.getKey(), lease.getValue()) == null) {
                server.active++;
                added++;
            }
        }
        if (added > 0) {
            countsChanged = true;
            getContext().getLog().info("pool {} counted {} connection(s) held by node {}", spec.name(), added, m.node());
        }
        m.gateway().tell(new PoolGateway.ViewChanged(view()));
        return this;
    }

    private Behavior<Command> onPick(Pick m) {
        gateways.putIfAbsent(m.node(), m.replyTo());
        List<Balancer.Candidate> eligible = candidates(m.exclude());
        if (!eligible.isEmpty()) {
            grant(m.node(), m.leaseId(), m.clientIp(), eligible, m.replyTo());
        } else if (anyAvailable(m.exclude())) {
            if (queue.size() >= spec.queueMaxWaiting()) {
                refuse(m.replyTo(), m.leaseId(), Refusal.QUEUE_FULL);
            } else {
                queue.add(new Waiting(m.node(), m.leaseId(), m.clientIp(), m.exclude(), m.replyTo(), System.nanoTime()));
                queued++;
                m.replyTo().tell(new PoolGateway.Queued(spec.name(), m.leaseId()));
            }
        } else {
            refuse(m.replyTo(), m.leaseId(), Refusal.NO_SERVER);
        }
        return this;
    }

    private void grant(String node, long leaseId, String clientIp, List<Balancer.Candidate> eligible,
                       ActorRef<PoolGateway.Command> replyTo) {
        Server server = servers.get(balancer.pick(eligible, clientIp).name());
        leasesByNode.computeIfAbsent(node, n -> new HashMap<>()).put(leaseId, server.spec.name());
        server.active++;
        granted++;
        countsChanged = true;
        replyTo.tell(new PoolGateway.Picked(spec.name(), leaseId, server.spec));
    }

    private void refuse(ActorRef<PoolGateway.Command> replyTo, long leaseId, Refusal reason) {
        refused++;
        replyTo.tell(new PoolGateway.Refused(spec.name(), leaseId, reason));
    }

    private void release(String node, long leaseId) {
        Map<Long, String> held = leasesByNode.get(node);
        String name = held == null ? null : held.remove(leaseId);
        if (name == null) return; // already released, or never counted here (granted by a previous incarnation)
        Server server = servers.get(name);
        if (server != null) server.active--;
        countsChanged = true;
        serveQueue();
    }

    /** Serves waiting connections, oldest first, while servers have room. */
    private void serveQueue() {
        while (!queue.isEmpty()) {
            Waiting next = queue.peek();
            List<Balancer.Candidate> eligible = candidates(next.exclude());
            if (eligible.isEmpty()) {
                if (anyAvailable(next.exclude())) return; // still full: keep waiting
                queue.poll();
                refuse(next.replyTo(), next.leaseId(), Refusal.NO_SERVER);
                continue;
            }
            queue.poll();
            grant(next.node(), next.leaseId(), next.clientIp(), eligible, next.replyTo());
        }
    }

    private Behavior<Command> onNodeRemoved(NodeRemoved m) {
        Map<Long, String> held = leasesByNode.remove(m.node());
        ActorRef<PoolGateway.Command> gateway = gateways.remove(m.node());
        if (gateway != null) askedForLeases.remove(gateway);
        queue.removeIf(w -> w.node().equals(m.node()));
        if (held != null && !held.isEmpty()) {
            held.values().forEach(name -> {
                Server server = servers.get(name);
                if (server != null) server.active--;
            });
            countsChanged = true;
            getContext().getLog().info("pool {} released {} connection(s) of node {}, which left the cluster",
                    spec.name(), held.size(), m.node());
            serveQueue();
        }
        return this;
    }

    /** Asks every gateway not heard from by this incarnation for the leases it holds. */
    private Behavior<Command> onGatewaysListed(GatewaysListed m) {
        for (ActorRef<PoolGateway.Command> gateway : m.gateways()) {
            if (askedForLeases.add(gateway)) gateway.tell(new PoolGateway.Resync(spec.name()));
        }
        askedForLeases.retainAll(m.gateways());
        return this;
    }

    // ---- choosing ---------------------------------------------------------------------------------------------

    private List<Balancer.Candidate> candidates(List<String> exclude) {
        long now = System.nanoTime();
        List<Balancer.Candidate> eligible = new ArrayList<>(servers.size());
        for (Server s : servers.values()) {
            if (isAvailable(s) && !exclude.contains(s.spec.name())
                    && (s.spec.maxConnections() == 0 || s.active < s.spec.maxConnections()))
                eligible.add(new Balancer.Candidate(s.spec.name(), effectiveWeight(s, now), s.active));
        }
        return eligible;
    }

    private boolean anyAvailable(List<String> exclude) {
        return servers.values().stream().anyMatch(s -> isAvailable(s) && !exclude.contains(s.spec.name()));
    }

    private static boolean isAvailable(Server s) {
        return s.admin == AdminState.ENABLED && s.healthy;
    }

    /** Slow start: a tenth of the weight when the server comes up, all of it after {@code slow-start}. */
    private double effectiveWeight(Server s, long now) {
        if (spec.slowStart().isZero()) return s.spec.weight();
        double ramp = (double) (now - s.upSinceNanos) / spec.slowStart().toNanos();
        return s.spec.weight() * Math.max(SLOW_START_FLOOR, Math.min(1.0, ramp));
    }

    // ---- health -----------------------------------------------------------------------------------------------

    private void startChecker(Server server) {
        if (spec.health().kind() == HealthCheckSettings.Kind.NONE) return;
        server.checker = getContext().spawnAnonymous(HealthChecker.create(server.spec.name(), server.spec.host(),
                server.spec.port(), spec.health(), healthAdapter));
    }

    private void stopChecker(Server server) {
        if (server.checker != null) getContext().stop(server.checker);
        server.checker = null;
    }

    private Behavior<Command> onHealth(HealthChecker.Report report) {
        Server server = servers.get(report.server());
        if (server == null) return this;
        if (report.up()) server.passiveFailures = 0;
        setHealth(server, report.up(), report.reason());
        return this;
    }

    private Behavior<Command> onObserved(Observed m) {
        Server server = servers.get(m.server());
        if (server == null || spec.passiveFailures() == 0) return this;
        if (!m.failed()) {
            server.passiveFailures = 0;
            return this;
        }
        server.passiveFailures++;
        if (server.healthy && server.passiveFailures >= spec.passiveFailures()) {
            setHealth(server, false, server.passiveFailures + " failed connections in a row (last: " + m.detail() + ")");
            if (server.checker == null) server.passiveRetryAtNanos = System.nanoTime() + spec.passiveRetry().toNanos();
        }
        return this;
    }

    private void setHealth(Server server, boolean healthy, String reason) {
        server.healthReason = reason;
        if (server.healthy == healthy) return;
        server.healthy = healthy;
        if (healthy) server.upSinceNanos = System.nanoTime();
        getContext().getLog().info("server {} {} {} {}", healthy ? "up" : "down", kv("pool", spec.name()),
                kv("server", server.spec.name()), kv("reason", reason));
        broadcastView();
        if (healthy) serveQueue();
    }

    // ---- runtime changes --------------------------------------------------------------------------------------

    private Behavior<Command> onAddServer(AddServer m) {
        ServerSpec s = m.server();
        if (servers.containsKey(s.name())) return reply(m.replyTo(), false, "pool " + spec.name() + " already has " + s.name());
        if (s.weight() < 1 || s.weight() > 1000) return reply(m.replyTo(), false, "weight must be 1-1000, not " + s.weight());
        if (s.port() < 1 || s.port() > 65535 || s.host().isBlank())
            return reply(m.replyTo(), false, s.address() + " is not host:port");
        writeOverride(new ServerOverride(s, AdminState.ENABLED, false), m.replyTo(), "added " + s.name() + " at " + s.address());
        return this;
    }

    private Behavior<Command> change(String name, ActorRef<AdminResult> replyTo,
                                     java.util.function.Function<Server, ServerOverride> change, String message) {
        Server server = servers.get(name);
        if (server == null) return reply(replyTo, false, "pool " + spec.name() + " has no server " + name);
        writeOverride(change.apply(server), replyTo, message);
        return this;
    }

    private void writeOverride(ServerOverride override, ActorRef<AdminResult> replyTo, String message) {
        String name = override.spec().name();
        replicator.askUpdate(r -> new Replicator.Update<>(overridesKey, LWWMap.empty(),
                        new Replicator.WriteMajority(OVERRIDE_WRITE_TIMEOUT), r,
                        map -> map.put(selfUniqueAddress, name, override)),
                response -> new OverrideWritten(override, response instanceof Replicator.UpdateSuccess, replyTo, message));
    }

    private Behavior<Command> onOverrideWritten(OverrideWritten m) {
        // Applied also when the majority did not confirm in time: the write is local and gossips on.
        applyOverride(m.override().spec().name(), m.override(), System.nanoTime(), true);
        broadcastView();
        serveQueue();
        getContext().getLog().info("pool change {} {} {}", kv("pool", spec.name()), kv("change", m.message()),
                kv("replicated", m.ok()));
        return reply(m.replyTo(), true, m.message() + (m.ok() ? "" : " (not yet confirmed by a majority of nodes)"));
    }

    /** @param startCheckers false while the entity is being built (it starts every checker afterwards) */
    private void applyOverride(String name, ServerOverride o, long now, boolean startCheckers) {
        Server server = servers.get(name);
        if (o.removed()) {
            if (server == null) return;
            servers.remove(name);
            stopChecker(server);
            return;
        }
        if (server == null) {
            // Added at runtime: ramps up. Read at the entity's start: was already serving.
            server = new Server(o.spec(), startCheckers ? now : now - spec.slowStart().toNanos());
            servers.put(name, server);
            if (startCheckers) startChecker(server);
        } else if (!server.spec.equals(o.spec())) {
            boolean moved = !server.spec.address().equals(o.spec().address());
            server.spec = o.spec();
            if (moved && startCheckers) {
                stopChecker(server);
                startChecker(server);
            }
        }
        if (server.admin != o.admin()) {
            AdminState before = server.admin;
            server.admin = o.admin();
            server.evicted = false;
            if (o.admin() == AdminState.DRAINING) server.drainStartedNanos = now;
            if (o.admin() == AdminState.ENABLED && before != AdminState.ENABLED) server.upSinceNanos = now;
            if (o.admin() == AdminState.DISABLED) evict(server, "disabled");
        }
    }

    /** Tells every node to close its connections to the server. */
    private void evict(Server server, String why) {
        if (server.evicted) return;
        server.evicted = true;
        gateways.values().forEach(g -> g.tell(new PoolGateway.CloseConnections(spec.name(), server.spec.name(), why)));
    }

    private static Behavior<Command> reply(ActorRef<AdminResult> replyTo, boolean ok, String message) {
        replyTo.tell(new AdminResult(ok, message));
        return Behaviors.same();
    }

    // ---- periodic -------------------------------------------------------------------------------------------

    private Behavior<Command> onTick() {
        long now = System.nanoTime();
        for (Iterator<Waiting> it = queue.iterator(); it.hasNext(); ) {
            Waiting w = it.next();
            if (now - w.sinceNanos() >= spec.queueTimeout().toNanos()) {
                it.remove();
                refuse(w.replyTo(), w.leaseId(), Refusal.QUEUE_TIMEOUT);
            }
        }
        for (Server s : servers.values()) {
            if (s.passiveRetryAtNanos != 0 && now >= s.passiveRetryAtNanos) {
                s.passiveRetryAtNanos = 0;
                s.passiveFailures = 0;
                setHealth(s, true, "passive retry after " + spec.passiveRetry().toSeconds() + " s");
            }
            if (s.admin == AdminState.DRAINING && !spec.drainDeadline().isZero() && s.active > 0
                    && now - s.drainStartedNanos >= spec.drainDeadline().toNanos())
                evict(s, "drained");
        }
        if (countsChanged && now - lastCountsBroadcastNanos >= COUNTS_BROADCAST.toNanos()) broadcastView();
        return this;
    }

    private void broadcastView() {
        PoolView view = view();
        gateways.values().forEach(g -> g.tell(new PoolGateway.ViewChanged(view)));
        countsChanged = false;
        lastCountsBroadcastNanos = System.nanoTime();
    }

    private PoolView view() {
        long now = System.nanoTime();
        List<ServerView> list = new ArrayList<>(servers.size());
        for (Server s : servers.values())
            list.add(new ServerView(s.spec, s.admin, s.healthy, s.healthReason, effectiveWeight(s, now), s.active));
        return new PoolView(spec.name(), spec.algorithm(), List.copyOf(list), queue.size(), selfNode);
    }

    private void logStats() {
        Map<String, Object> perServer = new LinkedHashMap<>();
        long now = System.nanoTime();
        for (Server s : servers.values())
            perServer.put(s.spec.name(), Map.of("active", s.active, "admin", s.admin.label(), "healthy", s.healthy,
                    "weight", s.spec.weight(), "effective_weight", Math.round(effectiveWeight(s, now) * 100) / 100.0));
        Map<String, Integer> perNode = new LinkedHashMap<>();
        leasesByNode.forEach((node, held) -> perNode.put(node, held.size()));
        getContext().getLog().info("pool stats {} {} {} {} {} {} {} {}", kv("pool", spec.name()), kv("node", selfNode),
                kv("servers", perServer), kv("connections_by_node", perNode), kv("waiting", queue.size()),
                kv("granted", granted), kv("queued", queued), kv("refused", refused));
    }
}
