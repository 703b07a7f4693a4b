package io.actortls.proxy;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.node.NodeConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Accepts TLS clients on one address and supervises their {@link ClientConnection} actors: it starts one per
 * client, on the I/O loops in turn, stops accepting at {@code max-connections} (new clients then wait in the
 * kernel's backlog), counts
 * every close by {@link CloseReason}, and stops each connection actor once it has reported. A connection that
 * dies without reporting is counted as {@link CloseReason#INTERNAL_ERROR}; no failure reaches another connection.
 *
 * <p>At {@code max-connections}, clients waiting in the backlog may take the place of connections that have been
 * in their handshake for {@code preempt-handshakes-after}: the listener asks the oldest of them to close
 * ({@link CloseReason#HANDSHAKE_PREEMPTED}) and accepts a waiting client for each that has, so the node never holds
 * more than {@code max-connections}, and clients that never finish a handshake cannot keep others out.
 */
public final class Listener extends AbstractBehavior<Listener.Command> {

    public sealed interface Command {}

    enum Acceptable implements Command { INSTANCE }
    enum RetryAccept implements Command { INSTANCE }
    record ConnectionClosed(ActorRef<ClientConnection.Command> connection, CloseReason reason) implements Command {}
    record ConnectionTerminated(ActorRef<ClientConnection.Command> connection) implements Command {}
    /** The answer of a connection asked to make room that had finished its handshake (or was already closing). */
    record NotPreempted(ActorRef<ClientConnection.Command> connection) implements Command {}
    enum PreemptionDue implements Command { INSTANCE }
    enum LogStats implements Command { INSTANCE }
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

    /**
     * Clients accepted per readiness event at most, so that a flood does not hold up the loop's connections; also
     * the most connections asked to make room at once while full (asked one at a time, a backlog of thousands would
     * wait for as many round trips to the connections' loops).
     */
    private static final int ACCEPTS_PER_EVENT = 64;
    /** After a failed accept (e.g. out of file descriptors): try again after this, not in a busy loop. */
    private static final Duration ACCEPT_RETRY = Duration.ofMillis(100);

    /**
     * Must be spawned on an {@code actortls-io} dispatcher (it owns the listening socket).
     *
     * @param ioLoops the dispatchers of the I/O loops; connections are spread over them in turn
     */
    public static Behavior<Command> create(NodeConfig.Listener config, ClientConnection.Settings settings,
                                           Duration statsInterval, List<DispatcherSelector> ioLoops, ActorRef<Status> parent) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            Listener listener = new Listener(ctx, timers, config, settings, statsInterval, ioLoops, parent);
            try {
                listener.bind();
            } catch (IOException | RuntimeException e) {
                parent.tell(new Failed(config.name(), listener.address(), e));
                return Behaviors.stopped();
            }
            return listener;
        }));
    }

    private final NodeConfig.Listener config;
    private final ClientConnection.Settings settings;
    private final ActorRef<Status> parent;
    private final Set<ActorRef<ClientConnection.Command>> open = new HashSet<>();
    /**
     * With preemption on: the open connections not yet asked to make room, oldest first, with their accept time
     * (System.nanoTime). Whether one is still in its handshake is known only by asking it, which happens only when
     * the listener is full, and once per connection at most.
     */
    private final LinkedHashMap<ActorRef<ClientConnection.Command>, Long> preemptable = new LinkedHashMap<>();
    /** Connections asked to make room that have not answered yet; nothing is accepted beyond the limit meanwhile. */
    private final Set<ActorRef<ClientConnection.Command>> preempting = new HashSet<>();
    private final Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
    private long accepted;
    private final List<DispatcherSelector> ioLoops;
    private int nextLoop;
    private ServerSocketChannel server;
    private SelectionKey acceptKey;
    private final List<ActorRef<Done>> drainWaiters = new java.util.ArrayList<>();
    private boolean stopping;
    private final TimerScheduler<Command> timers;

    private Listener(ActorContext<Command> ctx, TimerScheduler<Command> timers, NodeConfig.Listener config,
                     ClientConnection.Settings settings, Duration statsInterval, List<DispatcherSelector> ioLoops,
                     ActorRef<Status> parent) {
        super(ctx);
        this.config = config;
        this.settings = settings;
        this.parent = parent;
        this.timers = timers;
        this.ioLoops = ioLoops;
        if (!statsInterval.isZero()) timers.startTimerWithFixedDelay(LogStats.INSTANCE, statsInterval);
    }

    private void bind() throws IOException {
        server = ServerSocketChannel.open();
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(config.host(), config.port()), config.backlog());
            server.configureBlocking(false);
            var self = getContext().getSelf();
            acceptKey = IoLoop.current().register(server, 0, readyOps -> self.tell(Acceptable.INSTANCE));
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        getContext().getLog().info("listening on {} {}", kv("listener", config.name()), kv("address", address()));
        parent.tell(new Ready(config.name(), address()));
        acceptMore();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Acceptable.class, m -> onAcceptable())
                .onMessage(RetryAccept.class, m -> {
                    acceptMore();
                    return this;
                })
                .onMessage(ConnectionClosed.class, this::onConnectionClosed)
                .onMessage(ConnectionTerminated.class, this::onConnectionTerminated)
                .onMessage(NotPreempted.class, m -> {
                    preempting.remove(m.connection());
                    acceptMore();
                    return this;
                })
                .onMessage(PreemptionDue.class, m -> {
                    acceptMore();
                    return this;
                })
                .onMessage(StopAccepting.class, this::onStopAccepting)
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
                    closeServer();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onStopAccepting(StopAccepting m) {
        if (!stopping) {
            stopping = true;
            closeServer();
            getContext().getLog().info("stopped accepting {} {}", kv("listener", config.name()), kv("open", open.size()));
        }
        m.replyTo().tell(Done.getInstance());
        return this;
    }

    private void closeServer() {
        if (server == null) return;
        try {
            server.close(); // new clients are refused from here on
        } catch (IOException e) {
            getContext().getLog().warn("closing listener {} failed: {}", config.name(), e.toString());
        }
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

    private Behavior<Command> onAcceptable() {
        if (!stopping && open.size() >= config.maxConnections()) {
            // We listen while full only when a connection can make room: a client waits in the backlog.
            if (canPreempt()) preemptOldest();
            acceptMore();
            return this;
        }
        for (int i = 0; i < ACCEPTS_PER_EVENT && !stopping && open.size() < config.maxConnections(); i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                getContext().getLog().error("listener {} cannot accept: {}; trying again in {} ms", config.name(),
                        e.toString(), ACCEPT_RETRY.toMillis());
                acceptKey.interestOps(0);
                timers.startSingleTimer(RetryAccept.INSTANCE, ACCEPT_RETRY);
                return this;
            }
            if (channel == null) break;
            accepted++;
            settings.metrics().accepted();
            DispatcherSelector loop = ioLoops.get(nextLoop++ % ioLoops.size());
            var child = getContext().spawnAnonymous(ClientConnection.create(channel, settings, getContext().getSelf()), loop);
            getContext().watchWith(child, new ConnectionTerminated(child));
            open.add(child);
            if (!config.preemptHandshakesAfter().isZero()) preemptable.put(child, System.nanoTime());
        }
        acceptMore();
        return this;
    }

    private Behavior<Command> onConnectionClosed(ConnectionClosed m) {
        if (open.remove(m.connection())) {
            forget(m.connection());
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
            forget(m.connection());
            closed.merge(CloseReason.INTERNAL_ERROR, 1L, Long::sum);
            settings.metrics().closed(CloseReason.INTERNAL_ERROR);
            acceptMore();
            replyIfDrained();
        }
        return this;
    }

    private void forget(ActorRef<ClientConnection.Command> connection) {
        preemptable.remove(connection);
        preempting.remove(connection);
    }

    /**
     * Listens for the next clients, unless we are at max-connections and no connection can make room (they then
     * wait in the backlog).
     */
    private void acceptMore() {
        if (acceptKey.isValid() && !timers.isTimerActive(RetryAccept.INSTANCE))
            acceptKey.interestOps(!stopping && (open.size() < config.maxConnections() || canPreempt())
                    ? SelectionKey.OP_ACCEPT : 0);
    }

    /**
     * Whether the oldest connection not yet asked has been open for preempt-handshakes-after, with no asked
     * connection still to answer (each answer either frees a slot or lets the next ones be asked). If it is
     * younger, a timer looks again when it comes of age.
     */
    private boolean canPreempt() {
        if (config.preemptHandshakesAfter().isZero() || !preempting.isEmpty() || preemptable.isEmpty()) return false;
        long age = System.nanoTime() - preemptable.firstEntry().getValue();
        long wait = config.preemptHandshakesAfter().toNanos() - age;
        if (wait <= 0) return true;
        timers.startSingleTimer(PreemptionDue.INSTANCE, Duration.ofNanos(wait));
        return false;
    }

    /**
     * Asks the oldest connections open for preempt-handshakes-after, up to {@link #ACCEPTS_PER_EVENT}, to close if
     * they are still in their handshake; each answers by closing or with NotPreempted.
     */
    private void preemptOldest() {
        long cutoff = System.nanoTime() - config.preemptHandshakesAfter().toNanos();
        while (preempting.size() < ACCEPTS_PER_EVENT && !preemptable.isEmpty()
                && preemptable.firstEntry().getValue() - cutoff <= 0) {
            var oldest = preemptable.pollFirstEntry().getKey();
            preempting.add(oldest);
            oldest.tell(ClientConnection.PreemptIfInHandshake.INSTANCE);
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
