package io.actortls.node;

import io.actortls.admin.AdminServices;
import io.actortls.admin.CertificateReloader;
import io.actortls.admin.LogLevelAdmin;
import io.actortls.admin.NodeAdmin;
import io.actortls.admin.SessionAdmin;
import io.actortls.logging.RecentLogLines;
import io.actortls.metrics.NodeMetrics;
import io.actortls.proxy.ClientConnection;
import io.actortls.proxy.Listener;
import io.actortls.proxy.NodeConnections;
import io.actortls.routing.PoolEntity;
import io.actortls.routing.PoolGateway;
import io.actortls.routing.PoolSpec;
import io.actortls.session.SessionReplicator;
import io.actortls.session.SessionServices;
import io.actortls.session.TicketKeyInstaller;
import io.actortls.session.TicketKeyRotator;
import io.actortls.tls.TlsFrontend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.PoisonPill;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * The node's guardian: joins the cluster, starts the session replicator, the ticket-key installer and the
 * cluster-wide ticket-key rotator (a singleton), the pool entities' sharding and this node's pool gateway, then
 * one {@link Listener} per configured listener, and the management endpoint. Completes
 * {@code started} once all listeners and the management endpoint are bound, or exceptionally with the first that could not bind.
 */
public final class NodeGuardian {
    private NodeGuardian() {}

    public sealed interface Command {}
    private record ListenerStatus(Listener.Status status) implements Command {}
    private record MembershipChanged(ClusterEvent.MemberEvent event) implements Command {}
    private record ManagementStarted(String uri, Throwable failure) implements Command {}

    /** A listener could not bind; {@link Main} turns this into exit code 2. */
    public static final class BindException extends RuntimeException {
        BindException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Behavior<Command> create(NodeConfig config, TlsFrontend tls, SessionServices sessions,
                                           CompletableFuture<Void> started) {
        return Behaviors.setup(ctx -> {
            RecentLogLines recentLines = RecentLogLines.install(config.log().memoryLines(), config.log().json());
            NodeMetrics metrics = NodeMetrics.create(sessions);
            Cluster cluster = Cluster.get(ctx.getSystem());
            Address self = cluster.selfMember().address();
            if (config.cluster().seedNodes().isEmpty()) cluster.manager().tell(Join.create(self));
            cluster.subscriptions().tell(Subscribe.create(
                    ctx.messageAdapter(ClusterEvent.MemberEvent.class, MembershipChanged::new), ClusterEvent.MemberEvent.class));

            String selfAddress = self.host().get() + ":" + self.port().get();
            var replicator = ctx.spawn(SessionReplicator.create(config.sessions(), sessions.mirror(), sessions.metrics(),
                    () -> sessions.stats(selfAddress)), "sessions");
            sessions.store().attach(replicator, selfAddress);
            ctx.spawn(TicketKeyInstaller.create(sessions.ticketKeys(), sessions.ticketKeyState()), "ticket-keys");
            var ticketKeyRotator = ClusterSingleton.get(ctx.getSystem()).init(
                    SingletonActor.of(TicketKeyRotator.create(config.tickets().rotationInterval()), "ticket-key-rotator"));

            Map<String, PoolSpec> poolSpecs = new LinkedHashMap<>();
            config.pools().forEach((name, pool) -> poolSpecs.put(name, pool.routing()));
            // The gateway, the shard regions (NodeConfig) and the pool entities run on the first I/O loop, beside
            // the connections: a lease then costs no thread hand-over there (and one wake-up of that loop from the
            // others).
            List<DispatcherSelector> ioLoops = config.ioDispatchers().stream().map(DispatcherSelector::fromConfig).toList();
            ClusterSharding.get(ctx.getSystem()).init(Entity.of(PoolEntity.TYPE, entity ->
                    PoolEntity.create(entity.getEntityId(), poolSpecs, selfAddress, config.log().statsInterval()))
                    .withEntityProps(ioLoops.get(0)));
            var gateway = ctx.spawn(PoolGateway.create(poolSpecs, self.toString(), config.log().statsInterval(), metrics),
                    "pools", ioLoops.get(0));

            Map<String, NodeConfig.VirtualHost> vhosts = new LinkedHashMap<>();
            config.vhosts().forEach(v -> vhosts.put(v.name(), v));
            var statusAdapter = ctx.messageAdapter(Listener.Status.class, ListenerStatus::new);
            Map<String, String> keyByName = new LinkedHashMap<>();
            List<ActorRef<Listener.Command>> listeners = new ArrayList<>();
            for (NodeConfig.Listener l : config.listeners()) {
                keyByName.put(l.name(), l.key());
                var settings = new ClientConnection.Settings(tls, l.timeouts(), Map.copyOf(vhosts), config.pools(), gateway,
                        replicator, config.sessions().fetchTimeout(), sessions.metrics(), metrics);
                listeners.add(ctx.spawn(Listener.create(l, settings, config.log().statsInterval(), ioLoops, statusAdapter),
                        "listener-" + l.name(), ioLoops.get(listeners.size() % ioLoops.size())));
            }
            // Half the management ask-timeout: a node's answer must reach the asking node within the whole of it.
            ctx.spawn(NodeConnections.create(List.copyOf(listeners), config.management().askTimeout().dividedBy(2)),
                    "connections");
            drainOnShutdown(ctx.getSystem(), listeners, config.shutdown().drainDeadline());
            var adminServices = AdminServices.get(ctx.getSystem());
            var admin = ctx.spawn(NodeAdmin.create(adminServices), "admin");
            ctx.spawn(LogLevelAdmin.create(), "log-levels");
            ctx.spawn(SessionAdmin.create(selfAddress, sessions, replicator, tls, config.tickets().rotationInterval()), "session-admin");
            ctx.spawn(CertificateReloader.create(tls), "certificate-reloader");
            adminServices.register(new AdminServices.NodeHandles(config, selfAddress, admin, replicator, gateway, sessions, tls,
                    metrics, recentLines, ticketKeyRotator));
            ctx.pipeToSelf(PekkoManagement.get(Adapter.toClassic(ctx.getSystem())).start(),
                    (uri, failure) -> new ManagementStarted(uri == null ? null : uri.toString(), failure));

            Set<String> ready = new HashSet<>();
            boolean[] managementUp = {false};
            Runnable completeIfReady = () -> {
                if (ready.size() == config.listeners().size() && managementUp[0] && !started.isDone()) {
                    ctx.getLog().info("ActorTls node ready: {} listener(s), {} virtual host(s), cluster address {}",
                            ready.size(), config.vhosts().size(), selfAddress);
                    started.complete(null);
                }
            };
            Set<Address> up = new HashSet<>();
            return Behaviors.receive(Command.class)
                    .onMessage(ListenerStatus.class, m -> {
                        switch (m.status()) {
                            case Listener.Ready r -> {
                                ready.add(r.listener());
                                completeIfReady.run();
                            }
                            case Listener.Failed f -> started.completeExceptionally(new BindException(
                                    keyByName.get(f.listener()) + ": cannot listen on " + f.address() + ": "
                                            + rootMessage(f.cause()), f.cause()));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(ManagementStarted.class, m -> {
                        var management = config.management();
                        if (m.failure() != null) {
                            started.completeExceptionally(new BindException("actortls.management.port: cannot listen on "
                                    + management.host() + ":" + management.port() + ": " + rootMessage(m.failure()), m.failure()));
                        } else {
                            ctx.getLog().info("management API on {}{}", m.uri(),
                                    management.token().isEmpty() ? " (no token configured: every call but /alive and /ready is refused)" : "");
                            managementUp[0] = true;
                            completeIfReady.run();
                        }
                        return Behaviors.same();
                    })
                    .onMessage(MembershipChanged.class, m -> {
                        Address member = m.event().member().address();
                        if (m.event() instanceof ClusterEvent.MemberUp) up.add(member);
                        else up.remove(member); // leaving, exiting, downed or removed: no longer serving the cluster
                        ctx.getLog().info("cluster membership: {} {}; members up: {}",
                                m.event().getClass().getSimpleName(), member, up.size());
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    /**
     * The node's part in coordinated shutdown (SIGTERM, a drain request): the listeners stop accepting in
     * service-unbind, and service-requests-done waits until their connections have ended or the deadline closed
     * them. Cluster Sharding then hands the pool entities over and the node leaves, in Pekko's later phases.
     */
    private static void drainOnShutdown(ActorSystem<?> system, List<ActorRef<Listener.Command>> listeners,
                                        Duration deadline) {
        var shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
        var log = system.log();
        shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "actortls-stop-accepting", () -> {
            log.info("node stopping ({}): closing the listeners, then draining open connections for up to {} s",
                    shutdown.getShutdownReason().map(Object::toString).orElse("unknown reason"), deadline.toSeconds());
            return askEach(system, listeners, Listener.StopAccepting::new, UNBIND_TIMEOUT);
        });
        shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "actortls-drain-connections", () -> {
            long start = System.nanoTime();
            return askEach(system, listeners, replyTo -> new Listener.Drain(deadline, replyTo),
                    deadline.plus(NodeConfig.SHUTDOWN_CLOSE_MARGIN)).thenApply(done -> {
                log.info("connections drained in {} ms", (System.nanoTime() - start) / 1_000_000);
                return done;
            });
        });
        // A node that never joined has nothing to hand over, but its shard region would wait the whole
        // cluster-sharding-shutdown-region phase (10 s) for a coordinator that does not exist: stop it at once.
        shutdown.addTask(CoordinatedShutdown.PhaseBeforeClusterShutdown(), "actortls-no-handoff-without-cluster", () -> {
            if (shutdown.getShutdownReason().equals(Optional.of(CoordinatedShutdown.clusterJoinUnsuccessfulReason())))
                org.apache.pekko.cluster.sharding.ClusterSharding.get(Adapter.toClassic(system))
                        .shardRegion(PoolEntity.TYPE.name()).tell(PoisonPill.getInstance(), org.apache.pekko.actor.ActorRef.noSender());
            return CompletableFuture.completedFuture(Done.getInstance());
        });
    }

    private static final Duration UNBIND_TIMEOUT = Duration.ofSeconds(5);

    private static <T> CompletionStage<Done> askEach(ActorSystem<?> system, List<ActorRef<T>> actors,
                                                     Function<ActorRef<Done>, T> question, Duration timeout) {
        CompletableFuture<?>[] asks = actors.stream()
                .map(a -> AskPattern.<T, Done>ask(a, question::apply, timeout, system.scheduler()).toCompletableFuture())
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(asks).thenApply(all -> Done.getInstance());
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
