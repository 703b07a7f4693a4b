package io.actortls.routing;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.metrics.NodeMetrics;
import io.actortls.node.ClusterMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * This node's door to the pool entities: client connections ask it for a server and give the lease back when
 * they end; it holds the node's leases (the truth the entities rebuild their counts from), and when an entity
 * does not answer within the pool's pick-timeout it decides locally from the entity's last view, for a while,
 * counted and logged, so the accept path never stalls on the cluster.
 *
 * <p>A connection gives its lease back itself, from its PostStop at the latest ({@link Return}, or {@link Abandon}
 * while its request is still open). The gateway does not watch connections: a watch costs two system messages
 * across threads per connection, and the connection's PostStop runs however it stops.
 */
public final class PoolGateway extends AbstractBehavior<PoolGateway.Command> {

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "pool-gateways");

    public sealed interface Command extends ClusterMessage {}

    // From client connections (local).
    /**
     * Asks for a server of {@code pool} for the connection {@code owner}; the answer ({@link Lease} or
     * {@link Refused}) and a later {@link Evict} go to {@code replyTo}.
     */
    public record Acquire(String pool, String clientIp, List<String> exclude, ActorRef<LeaseEvent> replyTo,
                          ActorRef<?> owner) implements Command {}
    /** The connection reached the server: clears a run of passive failures. */
    public record Connected(long leaseId) implements Command {}
    public record Return(long leaseId, LeaseOutcome outcome, String detail) implements Command {}
    /** The connection {@code owner} stopped before its {@link Acquire} was answered. */
    public record Abandon(ActorRef<?> owner) implements Command {}

    // From the pool entities.
    public record Picked(String pool, long leaseId, ServerSpec server) implements Command {}
    public record Queued(String pool, long leaseId) implements Command {}
    public record Refused(String pool, long leaseId, PoolEntity.Refusal reason) implements Command {}
    public record ViewChanged(PoolView view) implements Command {}
    public record Resync(String pool) implements Command {}
    public record CloseConnections(String pool, String server, String why) implements Command {}

    // From the management API, on any node.
    /** The connections this node holds open, by pool and server. */
    public record GetHeld(ActorRef<HeldConnections> replyTo) implements Command {}
    /** @param byPool pool → server → connections this node holds to it */
    public record HeldConnections(Map<String, Map<String, Integer>> byPool) implements ClusterMessage {}

    // Internal.
    private record PickTimedOut(long leaseId) implements Command {}
    private enum SyncLocalLeases implements Command { INSTANCE }
    private enum LogPicks implements Command { INSTANCE }

    /** What a connection hears from the gateway. */
    public sealed interface LeaseEvent {}
    /** @param decidedLocally the entity did not answer in time; this node chose from its last view */
    public record Lease(long id, String pool, ServerSpec server, boolean decidedLocally) implements LeaseEvent {}
    public record Refusal(String pool, PoolEntity.Refusal reason) implements LeaseEvent {}
    public record Evict(String why) implements LeaseEvent {}

    /** How long a node keeps deciding locally after an entity failed to answer, before asking it again. */
    private static final Duration LOCAL_DECISIONS_FOR = Duration.ofSeconds(2);
    private static final Duration SYNC_LOCAL_LEASES_EVERY = Duration.ofMillis(500);

    public static Behavior<Command> create(Map<String, PoolSpec> pools, String selfNode, Duration statsInterval,
                                           NodeMetrics metrics) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new PoolGateway(ctx, timers, pools, selfNode,
                statsInterval, metrics)));
    }

    private record Pending(String pool, String clientIp, List<String> exclude, ActorRef<LeaseEvent> replyTo,
                           ActorRef<?> owner, boolean queued, long sinceNanos) {}

    private record Held(String pool, String server, ActorRef<LeaseEvent> replyTo, ActorRef<?> owner) {}

    /** What the node knows of one pool. */
    private static final class PoolState {
        final PoolSpec spec;
        PoolView view;
        long localUntilNanos;
        final Balancer localBalancer;
        final Set<String> failing = new HashSet<>();   // servers whose last connect from here failed
        long localDecisions;
        final LatencyWindow pickLatency = new LatencyWindow();

        PoolState(PoolSpec spec) {
            this.spec = spec;
            this.localBalancer = spec.algorithm().newBalancer();
        }
    }

    private final TimerScheduler<Command> timers;
    private final ClusterSharding sharding;
    private final String selfNode;
    private final NodeMetrics metrics;
    private final Map<String, PoolState> pools = new HashMap<>();
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Map<Long, Held> held = new HashMap<>();
    private final Map<ActorRef<?>, Long> leaseByOwner = new HashMap<>();
    private long nextLeaseId;

    private PoolGateway(ActorContext<Command> ctx, TimerScheduler<Command> timers, Map<String, PoolSpec> specs,
                        String selfNode, Duration statsInterval, NodeMetrics metrics) {
        super(ctx);
        this.metrics = metrics;
        this.timers = timers;
        this.sharding = ClusterSharding.get(ctx.getSystem());
        this.selfNode = selfNode;
        specs.forEach((name, spec) -> pools.put(name, new PoolState(spec)));
        ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
        // Wakes every pool entity now, so health checks run before the first client arrives.
        pools.keySet().forEach(pool -> entity(pool).tell(new PoolEntity.Snapshot(selfNode, ctx.getSelf(), Map.of())));
        timers.startTimerWithFixedDelay(SyncLocalLeases.INSTANCE, SYNC_LOCAL_LEASES_EVERY);
        if (!statsInterval.isZero()) timers.startTimerWithFixedDelay(LogPicks.INSTANCE, statsInterval);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Acquire.class, this::onAcquire)
                .onMessage(Connected.class, this::onConnected)
                .onMessage(Return.class, m -> {
                    giveBack(m.leaseId(), m.outcome(), m.detail());
                    return this;
                })
                .onMessage(Picked.class, this::onPicked)
                .onMessage(Queued.class, this::onQueued)
                .onMessage(Refused.class, m -> {
                    Pending p = pending.remove(m.leaseId());
                    if (p != null) {
                        timers.cancel(m.leaseId());
                        leaseByOwner.remove(p.owner());
                        p.replyTo().tell(new Refusal(m.pool(), m.reason()));
                    }
                    return this;
                })
                .onMessage(ViewChanged.class, this::onViewChanged)
                .onMessage(Resync.class, m -> {
                    entity(m.pool()).tell(new PoolEntity.Snapshot(selfNode, getContext().getSelf(), leasesOf(m.pool())));
                    return this;
                })
                .onMessage(CloseConnections.class, this::onCloseConnections)
                .onMessage(GetHeld.class, m -> {
                    Map<String, Map<String, Integer>> byPool = new HashMap<>();
                    held.values().forEach(h -> byPool.computeIfAbsent(h.pool(), p -> new HashMap<>())
                            .merge(h.server(), 1, Integer::sum));
                    m.replyTo().tell(new HeldConnections(byPool));
                    return this;
                })
                .onMessage(PickTimedOut.class, this::onPickTimedOut)
                .onMessage(Abandon.class, this::onAbandon)
                .onMessage(SyncLocalLeases.class, m -> syncWhileLocal())
                .onMessage(LogPicks.class, m -> logPicks())
                .build();
    }

    // ---- acquiring --------------------------------------------------------------------------------------------

    private Behavior<Command> onAcquire(Acquire m) {
        PoolState pool = pools.get(m.pool());
        if (pool == null) {
            m.replyTo().tell(new Refusal(m.pool(), PoolEntity.Refusal.NO_SERVER));
            return this;
        }
        long id = ++nextLeaseId;
        leaseByOwner.put(m.owner(), id);
        Pending request = new Pending(m.pool(), m.clientIp(), m.exclude(), m.replyTo(), m.owner(), false, System.nanoTime());
        if (!pool.spec.clusterWide() || System.nanoTime() < pool.localUntilNanos) {
            decideLocally(id, request, pool);
            return this;
        }
        pending.put(id, request);
        timers.startSingleTimer(id, new PickTimedOut(id), pool.spec.pickTimeout());
        entity(m.pool()).tell(new PoolEntity.Pick(selfNode, id, m.clientIp(), m.exclude(), getContext().getSelf()));
        return this;
    }

    private Behavior<Command> onPicked(Picked m) {
        Pending p = pending.remove(m.leaseId());
        if (p == null) {
            // Answered too late: this node already decided without the entity, or the connection went away.
            entity(m.pool()).tell(new PoolEntity.Release(selfNode, m.leaseId()));
            // Decided here and still open: the release also undid the count of a snapshot that reached the entity
            // after its grant, so the lease is counted again, on the server this node chose.
            if (held.containsKey(m.leaseId()))
                entity(m.pool()).tell(new PoolEntity.Snapshot(selfNode, getContext().getSelf(), leasesOf(m.pool())));
            return this;
        }
        timers.cancel(m.leaseId());
        hold(m.leaseId(), p, m.server(), false);
        return this;
    }

    private Behavior<Command> onQueued(Queued m) {
        Pending p = pending.get(m.leaseId());
        if (p == null) return this;
        pending.put(m.leaseId(), new Pending(p.pool(), p.clientIp(), p.exclude(), p.replyTo(), p.owner(), true, p.sinceNanos()));
        // The entity refuses it at the queue timeout; this timer only covers an entity that then goes silent.
        PoolSpec spec = pools.get(m.pool()).spec;
        timers.startSingleTimer(m.leaseId(), new PickTimedOut(m.leaseId()), spec.queueTimeout().plus(spec.pickTimeout()));
        return this;
    }

    private Behavior<Command> onPickTimedOut(PickTimedOut m) {
        Pending p = pending.remove(m.leaseId());
        if (p == null) return this;
        PoolState pool = pools.get(p.pool());
        if (p.queued()) {
            leaseByOwner.remove(p.owner());
            p.replyTo().tell(new Refusal(p.pool(), PoolEntity.Refusal.QUEUE_TIMEOUT));
            return this;
        }
        if (System.nanoTime() >= pool.localUntilNanos)
            getContext().getLog().warn("pool entity did not answer within {} ms: this node picks from its last view for {} s {}",
                    pool.spec.pickTimeout().toMillis(), LOCAL_DECISIONS_FOR.toSeconds(), kv("pool", p.pool()));
        pool.localUntilNanos = System.nanoTime() + LOCAL_DECISIONS_FOR.toNanos();
        decideLocally(m.leaseId(), p, pool);
        return this;
    }

    /**
     * The pool's algorithm over the entity's last view (health, admin state, weights), on this node: with the
     * cluster's counts as last shown plus this node's own leases, or, for a node-scoped pool, its own alone.
     */
    private void decideLocally(long id, Pending request, PoolState pool) {
        if (pool.spec.clusterWide()) pool.localDecisions++;
        Map<String, Integer> mine = new HashMap<>();
        held.values().forEach(h -> {
            if (h.pool().equals(request.pool())) mine.merge(h.server(), 1, Integer::sum);
        });
        List<ServerView> servers = pool.view != null ? pool.view.servers() : pool.spec.servers().stream()
                .map(s -> new ServerView(s, AdminState.ENABLED, true, "no view yet", s.weight(), 0)).toList();
        List<Balancer.Candidate> eligible = new ArrayList<>();
        Map<String, ServerSpec> byName = new HashMap<>();
        for (ServerView s : servers) {
            String name = s.spec().name();
            int active = pool.spec.clusterWide() ? Math.max(s.active(), mine.getOrDefault(name, 0)) : mine.getOrDefault(name, 0);
            boolean room = s.spec().maxConnections() == 0 || active < s.spec().maxConnections();
            if (s.available() && room && !request.exclude().contains(name)) {
                eligible.add(new Balancer.Candidate(name, Math.max(s.effectiveWeight(), 0.1), active));
                byName.put(name, s.spec());
            }
        }
        if (eligible.isEmpty()) {
            leaseByOwner.remove(request.owner());
            request.replyTo().tell(new Refusal(request.pool(), PoolEntity.Refusal.NO_SERVER));
            return;
        }
        hold(id, request, byName.get(pool.localBalancer.pick(eligible, request.clientIp()).name()), true);
    }

    private void hold(long id, Pending request, ServerSpec server, boolean local) {
        long pickNanos = System.nanoTime() - request.sinceNanos();
        pools.get(request.pool()).pickLatency.record(pickNanos);
        metrics.picked(request.pool(), pickNanos);
        metrics.serverLeased(request.pool(), server.name());
        held.put(id, new Held(request.pool(), server.name(), request.replyTo(), request.owner()));
        request.replyTo().tell(new Lease(id, request.pool(), server, local));
    }

    // ---- returning ----------------------------------------------------------------------------------------------

    private Behavior<Command> onConnected(Connected m) {
        Held h = held.get(m.leaseId());
        if (h != null && pools.get(h.pool()).failing.remove(h.server()))
            entity(h.pool()).tell(new PoolEntity.Observed(h.server(), false, "connected"));
        return this;
    }

    private void giveBack(long id, LeaseOutcome outcome, String detail) {
        Pending p = pending.remove(id);
        if (p != null) {
            timers.cancel(id);
            leaseByOwner.remove(p.owner());
            return; // a late grant is released in onPicked
        }
        Held h = held.remove(id);
        if (h == null) return;
        leaseByOwner.remove(h.owner());
        metrics.serverReturned(h.pool(), h.server());
        // A node-scoped pool's entity never counted this lease: it hears only of failures.
        if (pools.get(h.pool()).spec.clusterWide()) entity(h.pool()).tell(new PoolEntity.Release(selfNode, id));
        if (outcome == LeaseOutcome.SERVER_FAILED) {
            pools.get(h.pool()).failing.add(h.server());
            entity(h.pool()).tell(new PoolEntity.Observed(h.server(), true, detail));
        }
    }

    private Behavior<Command> onAbandon(Abandon m) {
        Long id = leaseByOwner.remove(m.owner());
        if (id != null) giveBack(id, LeaseOutcome.ENDED, null);
        return this;
    }

    private Behavior<Command> onCloseConnections(CloseConnections m) {
        int closing = 0;
        for (Held h : held.values()) {
            if (h.pool().equals(m.pool()) && h.server().equals(m.server())) {
                h.replyTo().tell(new Evict(m.why()));
                closing++;
            }
        }
        if (closing > 0)
            getContext().getLog().info("closing {} connection(s) {} {} {}", closing, kv("pool", m.pool()),
                    kv("server", m.server()), kv("why", m.why()));
        return this;
    }

    // ---- views ----------------------------------------------------------------------------------------------------

    private Behavior<Command> onViewChanged(ViewChanged m) {
        PoolState pool = pools.get(m.view().pool());
        if (pool == null) return this;
        pool.view = m.view();
        if (pool.localUntilNanos != 0) {
            pool.localUntilNanos = 0;
            getContext().getLog().info("pool entity answers again on {}: picks go through it {} {}",
                    m.view().entityNode(), kv("pool", m.view().pool()), kv("local_decisions", pool.localDecisions));
        }
        return this;
    }

    /**
     * While deciding locally, tells the entity (wherever it now is) which leases this node holds: it counts
     * them, and its answer (a view) ends local decisions.
     */
    private Behavior<Command> syncWhileLocal() {
        long now = System.nanoTime();
        pools.forEach((name, pool) -> {
            if (pool.localUntilNanos != 0 && now < pool.localUntilNanos + LOCAL_DECISIONS_FOR.toNanos())
                entity(name).tell(new PoolEntity.Snapshot(selfNode, getContext().getSelf(), leasesOf(name)));
        });
        return this;
    }

    /** Pick latency (request to server known) since the last line, and how many picks this node made itself. */
    private Behavior<Command> logPicks() {
        pools.forEach((name, pool) -> {
            LatencyWindow.Summary s = pool.pickLatency.drain();
            if (s.count() == 0) return;
            int open = (int) held.values().stream().filter(h -> h.pool().equals(name)).count();
            getContext().getLog().info("pool picks {} {} {} {} {} {} {} {}", kv("pool", name), kv("picks", s.count()),
                    kv("p50_us", s.p50Micros()), kv("p99_us", s.p99Micros()), kv("max_us", s.maxMicros()),
                    kv("local_decisions", pool.localDecisions), kv("scope", pool.spec.clusterWide() ? "cluster" : "node"),
                    kv("open", open));
        });
        return this;
    }

    /** The leases the pool's entity counts: none for a node-scoped pool. */
    private Map<Long, String> leasesOf(String pool) {
        if (!pools.get(pool).spec.clusterWide()) return Map.of();
        Map<Long, String> leases = new HashMap<>();
        held.forEach((id, h) -> {
            if (h.pool().equals(pool)) leases.put(id, h.server());
        });
        return leases;
    }

    private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<PoolEntity.Command> entity(String pool) {
        return sharding.entityRefFor(PoolEntity.TYPE, pool);
    }
}
