package io.actortls.proxy;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.node.NodeConfig;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * Accepts TLS clients on one address and supervises their {@link ClientConnection} actors: it starts one per
 * client, stops accepting at {@code max-connections} (new clients then wait in the kernel's backlog), counts
 * every close by {@link CloseReason}, and stops each connection actor once it has reported. A connection that
 * dies without reporting is counted as {@link CloseReason#INTERNAL_ERROR}; no failure reaches another connection.
 */
public final class Listener extends AbstractBehavior<Listener.Command> {

    public sealed interface Command {}

    record Bound(Tcp.ServerBinding binding) implements Command {}
    record BindFailed(Throwable cause) implements Command {}
    record AcceptorStarted(ActorRef<StreamAck> ack) implements Command {}
    record Accepted(ActorRef<StreamAck> ack, Tcp.IncomingConnection connection) implements Command {}
    record AcceptorEnded() implements Command {}
    record AcceptorFailed(Throwable cause) implements Command {}
    record ConnectionClosed(ActorRef<ClientConnection.Command> connection, CloseReason reason) implements Command {}
    record ConnectionTerminated(ActorRef<ClientConnection.Command> connection) implements Command {}
    enum LogStats implements Command { INSTANCE }
    record Unbound() implements Command {}
    enum DrainDeadline implements Command { INSTANCE }

    /** Asks for the current counts. */
    public record GetStats(ActorRef<Stats> replyTo) implements Command {}

    public record Stats(String listener, int open, long accepted, Map<CloseReason, Long> closed) {}

    /** Asks for the open connections' actors (the caller asks each of them what it is doing). */
    public record ListConnections(ActorRef<Connections> replyTo) implements Command {}

    public record Connections(String listener, List<ActorRef<ClientConnection.Command>> open) {}

    /** The node is stopping: close the listening socket (new clients are refused), then reply. */
    public record StopAccepting(ActorRef<Done> replyTo) implements Command {}

    /**
     * Reply once every open connection has ended; those still open after {@code deadline} are closed with
     * {@link CloseReason#SHUTDOWN}.
     */
    public record Drain(java.time.Duration deadline, ActorRef<Done> replyTo) implements Command {}

    /** What the listener tells its parent about binding. */
    public sealed interface Status {}
    public record Ready(String listener, String address) implements Status {}
    public record Failed(String listener, String address, Throwable cause) implements Status {}

    public static Behavior<Command> create(NodeConfig.Listener config, ClientConnection.Settings settings,
                                           java.time.Duration statsInterval, ActorRef<Status> parent) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Listener(ctx, timers, config, settings, statsInterval, parent)));
    }

    private final NodeConfig.Listener config;
    private final ClientConnection.Settings settings;
    private final ActorRef<Status> parent;
    private final Set<ActorRef<ClientConnection.Command>> open = new HashSet<>();
    private final Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
    private long accepted;
    private ActorRef<StreamAck> acceptorAck; // held while at max-connections
    private Tcp.ServerBinding binding;
    private final List<ActorRef<Done>> unbindWaiters = new java.util.ArrayList<>();
    private final List<ActorRef<Done>> drainWaiters = new java.util.ArrayList<>();
    private boolean stopping;
    private final TimerScheduler<Command> timers;

    private Listener(ActorContext<Command> ctx, TimerScheduler<Command> timers, NodeConfig.Listener config,
                     ClientConnection.Settings settings, java.time.Duration statsInterval, ActorRef<Status> parent) {
        super(ctx);
        this.config = config;
        this.settings = settings;
        this.parent = parent;
        this.timers = timers;
        if (!statsInterval.isZero()) timers.startTimerWithFixedDelay(LogStats.INSTANCE, statsInterval);

        var acceptor = ActorSink.<Tcp.IncomingConnection, Command, StreamAck>actorRefWithBackpressure(ctx.getSelf(),
                Accepted::new, AcceptorStarted::new, StreamAck.INSTANCE, new AcceptorEnded(), AcceptorFailed::new);
        CompletionStage<Tcp.ServerBinding> bound = Tcp.get(ctx.getSystem())
                .bind(config.host(), config.port(), config.backlog(), config.timeouts().tcpKeepalive().isZero()
                        ? List.of() : List.of(new TcpKeepAlive(config.timeouts().tcpKeepalive())), true, Optional.empty())
                .toMat(acceptor, Keep.left())
                .run(Materializer.matFromSystem(ctx.getSystem()));
        ctx.pipeToSelf(bound, (b, failure) -> failure == null ? new Bound(b) : new BindFailed(failure));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Bound.class, this::onBound)
                .onMessage(BindFailed.class, m -> {
                    parent.tell(new Failed(config.name(), address(), m.cause()));
                    return Behaviors.stopped();
                })
                .onMessage(AcceptorStarted.class, m -> {
                    acceptorAck = m.ack();
                    acceptMore();
                    return this;
                })
                .onMessage(Accepted.class, this::onAccepted)
                .onMessage(AcceptorEnded.class, m -> this)
                .onMessage(AcceptorFailed.class, m -> {
                    getContext().getLog().error("listener {} stopped accepting: {}", config.name(), m.cause().toString());
                    return this;
                })
                .onMessage(ConnectionClosed.class, this::onConnectionClosed)
                .onMessage(ConnectionTerminated.class, this::onConnectionTerminated)
                .onMessage(StopAccepting.class, this::onStopAccepting)
                .onMessage(Unbound.class, m -> {
                    getContext().getLog().info("stopped accepting {} {}", kv("listener", config.name()),
                            kv("open", open.size()));
                    unbindWaiters.forEach(w -> w.tell(Done.getInstance()));
                    unbindWaiters.clear();
                    return this;
                })
                .onMessage(Drain.class, this::onDrain)
                .onMessage(DrainDeadline.class, m -> {
                    getContext().getLog().info("drain deadline passed {} {}", kv("listener", config.name()),
                            kv("closing", open.size()));
                    open.forEach(c -> c.tell(ClientConnection.DrainDeadlinePassed.INSTANCE));
                    return this;
                })
                .onMessage(GetStats.class, m -> {
                    m.replyTo().tell(stats());
                    return this;
                })
                .onMessage(ListConnections.class, m -> {
                    m.replyTo().tell(new Connections(config.name(), List.copyOf(open)));
                    return this;
                })
                .onMessage(LogStats.class, m -> {
                    Stats s = stats();
                    getContext().getLog().info("listener stats {} {} {} {}", kv("listener", s.listener()),
                            kv("open", s.open()), kv("accepted", s.accepted()), kv("closed", labelled(s.closed())));
                    return this;
                })
                .onSignal(PostStop.class, s -> {
                    if (binding != null) binding.unbind();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onBound(Bound m) {
        binding = m.binding();
        getContext().getLog().info("listening on {} {}", kv("listener", config.name()), kv("address", address()));
        parent.tell(new Ready(config.name(), address()));
        return this;
    }

    private Behavior<Command> onStopAccepting(StopAccepting m) {
        unbindWaiters.add(m.replyTo());
        if (!stopping) {
            stopping = true;
            if (binding == null) getContext().getSelf().tell(new Unbound());
            else getContext().pipeToSelf(binding.unbind(), (ok, failure) -> new Unbound());
        }
        return this;
    }

    private Behavior<Command> onDrain(Drain m) {
        drainWaiters.add(m.replyTo());
        if (!timers.isTimerActive(DrainDeadline.INSTANCE))
            timers.startSingleTimer(DrainDeadline.INSTANCE, m.deadline());
        replyIfDrained();
        return this;
    }

    private void replyIfDrained() {
        if (!open.isEmpty() || drainWaiters.isEmpty()) return;
        timers.cancel(DrainDeadline.INSTANCE);
        drainWaiters.forEach(w -> w.tell(Done.getInstance()));
        drainWaiters.clear();
    }

    private Behavior<Command> onAccepted(Accepted m) {
        acceptorAck = m.ack();
        accepted++;
        settings.metrics().accepted();
        var child = getContext().spawnAnonymous(ClientConnection.create(m.connection(), settings, getContext().getSelf()));
        getContext().watchWith(child, new ConnectionTerminated(child));
        open.add(child);
        acceptMore();
        return this;
    }

    private Behavior<Command> onConnectionClosed(ConnectionClosed m) {
        if (open.remove(m.connection())) {
            closed.merge(m.reason(), 1L, Long::sum);
            settings.metrics().closed(m.reason());
            getContext().stop(m.connection());
            acceptMore();
            replyIfDrained();
        }
        return this;
    }

    private Behavior<Command> onConnectionTerminated(ConnectionTerminated m) {
        if (open.remove(m.connection())) {
            closed.merge(CloseReason.INTERNAL_ERROR, 1L, Long::sum);
            settings.metrics().closed(CloseReason.INTERNAL_ERROR);
            acceptMore();
            replyIfDrained();
        }
        return this;
    }

    /** Asks the acceptor stream for the next client, unless we are at max-connections. */
    private void acceptMore() {
        if (acceptorAck != null && !stopping && open.size() < config.maxConnections()) {
            acceptorAck.tell(StreamAck.INSTANCE);
            acceptorAck = null;
        }
    }

    private Stats stats() {
        return new Stats(config.name(), open.size(), accepted, Map.copyOf(closed));
    }

    private static Map<String, Long> labelled(Map<CloseReason, Long> counts) {
        var out = new java.util.TreeMap<String, Long>();
        counts.forEach((reason, n) -> out.put(reason.label(), n));
        return out;
    }

    private String address() {
        return config.host() + ":" + config.port();
    }
}
