package io.actortls.session;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.node.ClusterMessage;
import io.actortls.node.NodeConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * Keeps this node's {@link SessionMirror} in step with the cluster session cache, a Distributed Data
 * {@code LWWMap} split over a fixed number of top-level keys (buckets):
 * <ul>
 *   <li>new and removed sessions from this node go into the local replica, and gossip spreads them;</li>
 *   <li>changes gossiped from other nodes come back as {@code Changed} and update the mirror;</li>
 *   <li>a handshake offering a session not mirrored yet asks every other node for it ({@link Fetch}); the first
 *       node holding it answers, and the handshake continues as soon as all have answered or the timeout ends;</li>
 *   <li>a periodic sweep removes expired sessions, and the oldest beyond {@code max-entries}, cluster-wide.</li>
 * </ul>
 */
public final class SessionReplicator {
    private SessionReplicator() {}

    public sealed interface Command {}

    /** Caches a session made on this node. */
    public record Put(String key, SessionEntry entry) implements Command {}

    /** Forgets a session everywhere by writing a {@link SessionEntry#revoked} marker over it. */
    public record Remove(String key, SessionEntry marker) implements Command {}

    /** Finds a session on the other nodes; the answer is {@link Fetched}. */
    public record Fetch(byte[] sessionId, ActorRef<Fetched> replyTo) implements Command {}

    public record Fetched(boolean found) {}

    /** This node's statistics. */
    public record GetStats(ActorRef<SessionStats> replyTo) implements Command {}

    /**
     * Revokes every session this node holds: at once in its mirror (so it resumes none of them from now on), and
     * in the cluster cache, bucket by bucket. Replies with how many live sessions it revoked.
     */
    public record Flush(ActorRef<Flushed> replyTo) implements Command {}

    public record Flushed(long revoked) implements ClusterMessage {}

    /** Statistics summed over every node that answers within the timeout. */
    public record GetClusterStats(ActorRef<List<SessionStats>> replyTo) implements Command {}

    // Between nodes.
    record PeerQuery(long requestId, String key, ActorRef<Command> replyTo) implements Command, ClusterMessage {}
    record PeerAnswer(long requestId, SessionEntry entry) implements Command, ClusterMessage {}
    record PeerStatsQuery(ActorRef<SessionStats> replyTo) implements Command, ClusterMessage {}

    // Internal.
    private record MembershipChanged(ClusterEvent.MemberEvent event) implements Command {}
    private record BucketChanged(int bucket, LWWMap<String, SessionEntry> map) implements Command {}
    private record UpdateDone(Replicator.UpdateResponse<LWWMap<String, SessionEntry>> response) implements Command {}
    private record FetchTimedOut(long requestId) implements Command {}
    private enum Sweep implements Command { INSTANCE }
    private enum LogStats implements Command { INSTANCE }

    /** Where every node's replicator lives: the guardian's child "sessions". */
    public static final String PATH = "/user/sessions";
    private static final String BUCKET_PREFIX = "tls-sessions-";
    /** Writes go to every node at once (as deltas): gossip alone would take 200-400 ms to spread a session. */
    private static final Replicator.WriteConsistency WRITE_ALL = new Replicator.WriteAll(Duration.ofSeconds(1));

    public static Behavior<Command> create(NodeConfig.Sessions config, SessionMirror mirror, SessionMetrics metrics,
                                           Supplier<SessionStats> localStats) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                DistributedData.<Command, LWWMap<String, SessionEntry>>withReplicatorMessageAdapter(replicator ->
                        new State(ctx, timers, replicator, config, mirror, metrics, localStats).behavior())));
    }

    private static final class State {
        private final ActorContext<Command> ctx;
        private final TimerScheduler<Command> timers;
        private final ReplicatorMessageAdapter<Command, LWWMap<String, SessionEntry>> replicator;
        private final NodeConfig.Sessions config;
        private final SessionMirror mirror;
        private final SessionMetrics metrics;
        private final Supplier<SessionStats> localStats;
        private final SelfUniqueAddress self;
        private final List<Key<LWWMap<String, SessionEntry>>> keys = new ArrayList<>();
        /** Per bucket, the keys the last Changed held: what disappears from one Changed to the next was removed. */
        private final Map<Integer, Set<String>> replicatedKeys = new HashMap<>();
        private final Map<Long, PendingFetch> fetches = new HashMap<>();
        /** The other nodes' replicators, from cluster membership (known as soon as a node is up). */
        private final Map<Address, ActorRef<Command>> peers = new HashMap<>();
        private long nextRequestId;

        private record PendingFetch(String key, ActorRef<Fetched> replyTo, int awaiting) {}

        State(ActorContext<Command> ctx, TimerScheduler<Command> timers,
              ReplicatorMessageAdapter<Command, LWWMap<String, SessionEntry>> replicator, NodeConfig.Sessions config,
              SessionMirror mirror, SessionMetrics metrics, Supplier<SessionStats> localStats) {
            this.ctx = ctx;
            this.timers = timers;
            this.replicator = replicator;
            this.config = config;
            this.mirror = mirror;
            this.metrics = metrics;
            this.localStats = localStats;
            this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
            // The javadsl adapter keeps one message adapter per response class for the whole actor: each subscribe
            // replaces the previous function. So one function serves every bucket and finds the bucket by the key.
            Map<Key<LWWMap<String, SessionEntry>>, Integer> bucketByKey = new HashMap<>();
            for (int i = 0; i < mirror.bucketCount(); i++) {
                Key<LWWMap<String, SessionEntry>> key = LWWMapKey.create(BUCKET_PREFIX + i);
                keys.add(key);
                bucketByKey.put(key, i);
            }
            for (Key<LWWMap<String, SessionEntry>> key : keys)
                replicator.subscribe(key, response -> response instanceof Replicator.Changed<LWWMap<String, SessionEntry>> c
                        ? new BucketChanged(bucketByKey.get(c.key()), c.dataValue())
                        : new BucketChanged(bucketByKey.get(response.key()), LWWMap.empty()));
            Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.MemberEvent.class, MembershipChanged::new), ClusterEvent.MemberEvent.class));
            timers.startTimerWithFixedDelay(Sweep.INSTANCE, config.sweepInterval());
            if (!config.statsInterval().isZero()) timers.startTimerWithFixedDelay(LogStats.INSTANCE, config.statsInterval());
        }

        Behavior<Command> behavior() {
            return Behaviors.receive(Command.class)
                    .onMessage(Put.class, m -> {
                        update(m.key(), map -> map.put(self, m.key(), m.entry()));
                        return Behaviors.same();
                    })
                    .onMessage(Remove.class, m -> {
                        update(m.key(), map -> map.put(self, m.key(), m.marker()));
                        return Behaviors.same();
                    })
                    .onMessage(Flush.class, this::onFlush)
                    .onMessage(BucketChanged.class, this::onBucketChanged)
                    .onMessage(UpdateDone.class, m -> Behaviors.same())
                    .onMessage(MembershipChanged.class, m -> {
                        Address address = m.event().member().address();
                        boolean serving = m.event() instanceof ClusterEvent.MemberUp || m.event() instanceof ClusterEvent.MemberWeaklyUp;
                        if (address.equals(Cluster.get(ctx.getSystem()).selfMember().address())) return Behaviors.same();
                        if (serving) peers.put(address, ActorRefResolver.get(ctx.getSystem()).resolveActorRef(address + PATH));
                        else peers.remove(address);
                        return Behaviors.same();
                    })
                    .onMessage(Fetch.class, this::onFetch)
                    .onMessage(PeerQuery.class, m -> {
                        SessionEntry entry = mirror.get(m.key());
                        boolean usable = entry != null && !entry.isExpired(System.currentTimeMillis() / 1000);
                        m.replyTo().tell(new PeerAnswer(m.requestId(), usable ? entry : null));
                        return Behaviors.same();
                    })
                    .onMessage(PeerAnswer.class, this::onPeerAnswer)
                    .onMessage(FetchTimedOut.class, m -> {
                        PendingFetch pending = fetches.remove(m.requestId());
                        if (pending != null) {
                            metrics.fetchTimeouts.increment();
                            pending.replyTo().tell(new Fetched(false));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Sweep.class, m -> {
                        sweep();
                        return Behaviors.same();
                    })
                    .onMessage(GetStats.class, m -> {
                        m.replyTo().tell(localStats.get());
                        return Behaviors.same();
                    })
                    .onMessage(PeerStatsQuery.class, m -> {
                        m.replyTo().tell(localStats.get());
                        return Behaviors.same();
                    })
                    .onMessage(GetClusterStats.class, m -> {
                        Set<ActorRef<Command>> everyone = new HashSet<>(peers.values());
                        everyone.add(ctx.getSelf());
                        ctx.spawnAnonymous(SessionStatsCollector.create(everyone, m.replyTo(), Duration.ofSeconds(3)));
                        return Behaviors.same();
                    })
                    .onMessage(LogStats.class, m -> {
                        SessionStats s = localStats.get();
                        ctx.getLog().info("session cache {} {} {} {} {} {} {} {} {} {} {}", kv("cached", s.cached()),
                                kv("hits", s.hits()), kv("misses", s.misses()), kv("remote_hits", s.remoteHits()),
                                kv("resumed_remote", s.resumedRemote()), kv("fetch_hits", s.fetchHits()),
                                kv("fetch_timeouts", s.fetchTimeouts()), kv("evictions", s.evictions()),
                                kv("expiries", s.expiries()), kv("ticket_key_generation", s.ticketKeyGeneration()),
                                kv("ticket_key_age_s", s.ticketKeyAgeSeconds()));
                        return Behaviors.same();
                    })
                    .build();
        }

        private void update(String key, java.util.function.Function<LWWMap<String, SessionEntry>, LWWMap<String, SessionEntry>> modify) {
            Key<LWWMap<String, SessionEntry>> bucketKey = keys.get(mirror.bucketOf(key));
            replicator.askUpdate(replyTo -> new Replicator.Update<>(bucketKey, LWWMap.empty(), WRITE_ALL,
                    replyTo, modify::apply), UpdateDone::new);
        }

        private Behavior<Command> onFlush(Flush m) {
            long now = System.currentTimeMillis() / 1000;
            Address address = Cluster.get(ctx.getSystem()).selfMember().address();
            SessionEntry marker = SessionEntry.revoked(address.host().get() + ":" + address.port().get());
            long revoked = 0;
            for (int b = 0; b < mirror.bucketCount(); b++) {
                List<String> live = mirror.bucket(b).entrySet().stream()
                        .filter(e -> !e.getValue().isExpired(now)).map(Map.Entry::getKey).toList();
                if (live.isEmpty()) continue;
                Key<LWWMap<String, SessionEntry>> bucketKey = keys.get(b);
                live.forEach(key -> mirror.put(key, marker));
                revoked += live.size();
                metrics.removals.add(live.size());
                replicator.askUpdate(replyTo -> new Replicator.Update<>(bucketKey, LWWMap.empty(), WRITE_ALL, replyTo,
                        map -> {
                            LWWMap<String, SessionEntry> marked = map;
                            for (String key : live) marked = marked.put(self, key, marker);
                            return marked;
                        }), UpdateDone::new);
            }
            m.replyTo().tell(new Flushed(revoked));
            return Behaviors.same();
        }

        private Behavior<Command> onBucketChanged(BucketChanged m) {
            Map<String, SessionEntry> entries = m.map().getEntries();
            Set<String> previous = replicatedKeys.getOrDefault(m.bucket(), Set.of());
            for (String key : previous) if (!entries.containsKey(key)) mirror.remove(key);
            entries.forEach(mirror::put);
            replicatedKeys.put(m.bucket(), new HashSet<>(entries.keySet()));
            return Behaviors.same();
        }

        private Behavior<Command> onFetch(Fetch m) {
            String key = SessionMirror.key(m.sessionId());
            List<ActorRef<Command>> others = List.copyOf(peers.values());
            if (mirror.get(key) != null || others.isEmpty()) {
                if (mirror.get(key) == null) metrics.fetchMisses.increment();
                m.replyTo().tell(new Fetched(mirror.get(key) != null));
                return Behaviors.same();
            }
            long requestId = nextRequestId++;
            fetches.put(requestId, new PendingFetch(key, m.replyTo(), others.size()));
            for (ActorRef<Command> peer : others) peer.tell(new PeerQuery(requestId, key, ctx.getSelf()));
            timers.startSingleTimer(new FetchTimedOut(requestId), new FetchTimedOut(requestId), config.fetchTimeout());
            return Behaviors.same();
        }

        private Behavior<Command> onPeerAnswer(PeerAnswer m) {
            PendingFetch pending = fetches.get(m.requestId());
            if (pending == null) return Behaviors.same(); // answered already, or timed out
            if (m.entry() != null) {
                fetches.remove(m.requestId());
                timers.cancel(new FetchTimedOut(m.requestId()));
                mirror.put(pending.key(), m.entry());
                metrics.fetchHits.increment();
                pending.replyTo().tell(new Fetched(true));
            } else if (pending.awaiting() == 1) {
                fetches.remove(m.requestId());
                timers.cancel(new FetchTimedOut(m.requestId()));
                metrics.fetchMisses.increment();
                pending.replyTo().tell(new Fetched(false));
            } else {
                fetches.put(m.requestId(), new PendingFetch(pending.key(), pending.replyTo(), pending.awaiting() - 1));
            }
            return Behaviors.same();
        }

        /**
         * Removes expired sessions, then the oldest beyond max-entries. Every node sweeps what its mirror holds;
         * the removals are idempotent, so nodes agreeing on what to remove costs nothing extra but gossip. Removal
         * markers stay for one sweep interval first, time enough to reach every node.
         */
        private void sweep() {
            long now = System.currentTimeMillis() / 1000;
            long markersBefore = System.currentTimeMillis() - config.sweepInterval().toMillis();
            List<Map.Entry<String, SessionEntry>> live = new ArrayList<>();
            for (int b = 0; b < mirror.bucketCount(); b++) {
                for (Map.Entry<String, SessionEntry> e : mirror.bucket(b).entrySet()) {
                    if (e.getValue().isExpired(now) && e.getValue().createdAt() < markersBefore) {
                        metrics.expiries.increment();
                        mirror.remove(e.getKey());
                        update(e.getKey(), map -> map.remove(self, e.getKey()));
                    } else if (!e.getValue().isExpired(now)) {
                        live.add(e);
                    }
                }
            }
            int excess = live.size() - config.maxEntries();
            if (excess <= 0) return;
            live.sort(Comparator.comparingLong(e -> e.getValue().createdAt()));
            for (Map.Entry<String, SessionEntry> e : live.subList(0, excess)) {
                metrics.evictions.increment();
                mirror.remove(e.getKey());
                update(e.getKey(), map -> map.remove(self, e.getKey()));
            }
        }
    }
}
