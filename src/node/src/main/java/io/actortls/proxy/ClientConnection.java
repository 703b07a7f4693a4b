package io.actortls.proxy;

import static net.logstash.logback.argument.StructuredArguments.kv;

import io.actortls.metrics.NodeMetrics;
import io.actortls.node.NodeConfig;
import io.actortls.routing.LeaseOutcome;
import io.actortls.routing.PoolGateway;
import io.actortls.routing.ServerSpec;
import io.actortls.session.SessionMetrics;
import io.actortls.session.SessionReplicator;
import io.actortls.tls.HandshakeProgress;
import io.actortls.tls.OpenSslException;
import io.actortls.tls.TlsConnection;
import io.actortls.tls.TlsFrontend;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, end to end: ciphertext from the client → OpenSSL → plaintext to a backend, and
 * plaintext from the backend → OpenSSL → ciphertext to the client.
 *
 * <p>The actor owns both sockets and runs on the {@link IoLoop} that polls them: readiness arrives as a message,
 * and the actor reads and writes the sockets itself, through its loop's native buffer, which OpenSSL reads from
 * and writes into directly. Back-pressure is the rule in {@link #advance()}: the actor asks for input from one
 * socket only while the other socket has taken everything sent to it ({@link TcpSocket#isBusy()}). So a slow
 * reader on either side stops reading on the other side, and the kernel's TCP window does the rest.
 *
 * <p>Every way out goes through {@link #close}, which ends both sockets, reports one {@link CloseReason} to the
 * {@link Listener}, logs one line, and frees the TLS connection (also on PostStop, once).
 */
public final class ClientConnection extends AbstractBehavior<ClientConnection.Command> {

    public sealed interface Command {}

    /** The client's socket is ready for what we asked (read, write). */
    record ClientReady(int readyOps) implements Command {}

    // The backend's socket; `attempt` tells the live connection from leftovers of a failed one.
    record BackendResolved(int attempt, InetSocketAddress address) implements Command {}
    record BackendConnectFailed(int attempt, Throwable cause) implements Command {}
    record BackendReady(int attempt, int readyOps) implements Command {}
    record BackendConnectTimedOut(int attempt) implements Command {}

    // The session cache, when the client offers a session this node does not hold yet.
    record SessionFetched(boolean found) implements Command {}

    // The pool: a server to connect to, a refusal, or an order to leave the server.
    record PoolAnswered(PoolGateway.LeaseEvent event) implements Command {}

    // The management API: what this connection is doing (asked on demand, so the data path pays nothing).
    public record Describe(ActorRef<Description> replyTo) implements Command {}

    /**
     * @param client    the client's address as ip:port
     * @param vhost     null until the handshake chose one; pool and server null until known
     * @param bytesIn   ciphertext from the client so far; bytesOut: ciphertext to it
     * @param closing   the connection is already closing
     */
    public record Description(String client, String vhost, String pool, String server, long ageMillis,
                              long bytesIn, long bytesOut, long backendBytesIn, long backendBytesOut, boolean closing) {}

    // Timers.
    enum HandshakeTimedOut implements Command { INSTANCE }
    enum ClientIdleCheck implements Command { INSTANCE }
    enum BackendIdleCheck implements Command { INSTANCE }
    enum LifetimeExpired implements Command { INSTANCE }
    enum PoolSilent implements Command { INSTANCE }
    enum LingerExpired implements Command { INSTANCE }

    // The node is stopping and its drain deadline has passed.
    enum DrainDeadlinePassed implements Command { INSTANCE }

    // The listener is full and a client waits: close if still in the handshake, else tell it Listener.NotPreempted.
    enum PreemptIfInHandshake implements Command { INSTANCE }

    /**
     * What the connection needs from its listener.
     *
     * @param timeouts the listener's; the vhost and the pool refine them once they are known
     */
    public record Settings(TlsFrontend tls, NodeConfig.Timeouts timeouts, Map<String, NodeConfig.VirtualHost> vhosts,
                           Map<String, NodeConfig.Pool> pools, ActorRef<PoolGateway.Command> gateway,
                           ActorRef<SessionReplicator.Command> sessions, Duration sessionFetchTimeout,
                           SessionMetrics sessionMetrics, NodeMetrics metrics) {}

    private static final Logger accessLog = LoggerFactory.getLogger("actortls.connection");
    /** How long a closing connection waits for its last bytes (alert, close_notify) to reach the kernel. */
    private static final Duration LINGER = Duration.ofSeconds(2);
    /** Beyond the pool's own limits (pick timeout, queue timeout): the gateway always answers well before. */
    private static final Duration POOL_ANSWER_MARGIN = Duration.ofSeconds(2);
    private static final long NO_LEASE = -1;

    /** Must be spawned on an {@code actortls-io} dispatcher: the actor registers {@code channel} with its loop. */
    public static Behavior<Command> create(SocketChannel channel, Settings settings, ActorRef<Listener.Command> listener) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            TcpSocket client;
            try {
                var self = ctx.getSelf();
                client = TcpSocket.accepted(channel, IoLoop.current(), settings.timeouts().tcpKeepalive(),
                        readyOps -> self.tell(new ClientReady(readyOps)));
            } catch (IOException e) { // the client reset before we got to it
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing left to release
                }
                listener.tell(new Listener.ConnectionClosed(ctx.getSelf(), CloseReason.HANDSHAKE_ABORTED));
                return Behaviors.empty();
            }
            return new ClientConnection(ctx, timers, channel, client, settings, listener);
        }));
    }

    private final TimerScheduler<Command> timers;
    private final Settings settings;
    private final ActorRef<Listener.Command> listener;
    private final IoLoop loop;
    private final InetSocketAddress clientAddress;
    private final InetSocketAddress localAddress;
    private final TlsConnection tls;
    private final ActorRef<PoolGateway.LeaseEvent> poolAnswers;
    private final TcpSocket client;
    private TcpSocket backendSocket;           // null until a server is known; replaced for each server tried
    private final long startNanos = System.nanoTime();
    private long lastClientActivityNanos = startNanos;
    private long lastBackendActivityNanos;
    private Duration clientIdle;               // the listener's, then the vhost's

    private boolean clientEnded;             // the client's FIN arrived
    private boolean backendEnded;            // the backend's FIN arrived
    private NodeConfig.Pool pool;
    private final List<String> failedServers = new ArrayList<>();
    private long leaseId = NO_LEASE;
    private boolean poolAsked;               // an Acquire is out and not answered yet
    private int backendAttempt;
    private ServerSpec backend;
    private boolean backendConnected;
    private CloseReason firstToEnd;          // CLIENT_CLOSED or BACKEND_CLOSED, whichever side finished first
    private boolean fetchingSession;         // the handshake is paused while the cluster looks for a session
    private final FirstRecord firstRecord = new FirstRecord(); // the handshake starts once it has arrived

    private CloseReason closeReason;         // non-null once closing
    private String closeDetail;
    private boolean reported;
    private long clientBytesIn, clientBytesOut, backendBytesIn, backendBytesOut;

    private ClientConnection(ActorContext<Command> ctx, TimerScheduler<Command> timers, SocketChannel channel,
                             TcpSocket client, Settings settings, ActorRef<Listener.Command> listener) throws IOException {
        super(ctx);
        this.timers = timers;
        this.settings = settings;
        this.listener = listener;
        this.loop = IoLoop.current();
        this.client = client;
        this.clientAddress = (InetSocketAddress) channel.getRemoteAddress();
        this.localAddress = (InetSocketAddress) channel.getLocalAddress();
        this.tls = settings.tls().newConnection();
        this.poolAnswers = ctx.messageAdapter(PoolGateway.LeaseEvent.class, PoolAnswered::new);
        this.clientIdle = settings.timeouts().clientIdle();
        timers.startSingleTimer(HandshakeTimedOut.INSTANCE, settings.timeouts().handshake());
        timers.startSingleTimer(ClientIdleCheck.INSTANCE, clientIdle);
        if (!settings.timeouts().lifetime().isZero())
            timers.startSingleTimer(LifetimeExpired.INSTANCE, settings.timeouts().lifetime());
        client.wantInput(true); // the ClientHello
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(ClientReady.class, m -> step(() -> clientReady(m.readyOps())))
                .onMessage(BackendResolved.class, m -> current(m.attempt(), () -> startConnect(m.address())))
                .onMessage(BackendConnectFailed.class, m -> current(m.attempt(), () -> backendConnectFailed(m.cause())))
                .onMessage(BackendConnectTimedOut.class, m -> current(m.attempt(), () -> {
                    if (!backendConnected) backendConnectFailed(new SocketTimeoutException(
                            "connect timed out after " + pool.backendConnect().toMillis() + " ms"));
                }))
                .onMessage(BackendReady.class, m -> current(m.attempt(), () -> backendReady(m.readyOps())))
                .onMessage(SessionFetched.class, m -> step(() -> {
                    fetchingSession = false;
                    tls.finishSessionFetch();
                }))
                .onMessage(PoolAnswered.class, m -> step(() -> poolAnswered(m.event())))
                .onMessage(PoolSilent.class, m -> step(() -> close(CloseReason.BACKEND_UNAVAILABLE,
                        "no answer from pool " + pool.name())))
                .onMessage(HandshakeTimedOut.class, m -> step(() -> close(CloseReason.HANDSHAKE_TIMEOUT, null)))
                .onMessage(ClientIdleCheck.class, m -> step(this::checkClientIdle))
                .onMessage(BackendIdleCheck.class, m -> step(this::checkBackendIdle))
                .onMessage(LifetimeExpired.class, m -> step(() -> close(CloseReason.LIFETIME, null)))
                .onMessage(Describe.class, m -> {
                    m.replyTo().tell(new Description(clientAddress.getAddress().getHostAddress() + ":" + clientAddress.getPort(),
                            tls.virtualHost(), pool == null ? null : pool.name(), backend == null ? null : backend.name(),
                            Duration.ofNanos(System.nanoTime() - startNanos).toMillis(), clientBytesIn, clientBytesOut,
                            backendBytesIn, backendBytesOut, closeReason != null));
                    return this;
                })
                .onMessage(DrainDeadlinePassed.class, m -> step(() -> close(CloseReason.SHUTDOWN,
                        "still open at the node's drain deadline")))
                .onMessage(PreemptIfInHandshake.class, m -> {
                    if (closeReason == null && !tls.handshakeDone())
                        return step(() -> close(CloseReason.HANDSHAKE_PREEMPTED,
                                "the listener was at max-connections with clients waiting"));
                    listener.tell(new Listener.NotPreempted(getContext().getSelf()));
                    return this;
                })
                .onMessage(LingerExpired.class, m -> step(() -> {
                    client.abort();
                    if (backendSocket != null) backendSocket.abort();
                }))
                .onSignal(PostStop.class, s -> {
                    // Stopped by the listener after our report, or by the node shutting down.
                    client.abort();
                    if (backendSocket != null) backendSocket.abort();
                    if (!reported) {
                        if (closeReason == null) closeReason = CloseReason.SHUTDOWN;
                        logClose();
                    }
                    if (poolAsked) settings.gateway().tell(new PoolGateway.Abandon(getContext().getSelf()));
                    else returnLease(LeaseOutcome.ENDED);
                    tls.close();
                    return this;
                })
                .build();
    }

    // ---- client → OpenSSL ----------------------------------------------------------------------------------

    private void clientReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            try {
                client.flush();
            } catch (IOException e) {
                clientStoppedTakingData(e);
                return;
            }
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) readClient();
    }

    /** Ciphertext from the client straight into OpenSSL's read BIO, through the loop's native buffer. */
    private void readClient() {
        if (closeReason != null) return;
        int n;
        try {
            n = client.read(loop.bufferView(IoLoop.BUFFER_SIZE));
        } catch (IOException e) {
            close(tls.handshakeDone() ? CloseReason.CLIENT_RESET : CloseReason.HANDSHAKE_ABORTED, e.toString());
            return;
        }
        if (n < 0) {
            clientEnded = true;
        } else if (n > 0) {
            clientBytesIn += n;
            settings.metrics().clientIn(n);
            lastClientActivityNanos = System.nanoTime();
            tls.receive(loop.buffer().asSlice(0, n));
            if (!firstRecord.arrived()) firstRecord.add(loop.buffer(), n);
        }
    }

    // ---- backend → OpenSSL → client --------------------------------------------------------------------------

    private void backendReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_CONNECT) != 0) {
            try {
                if (backendSocket.finishConnect()) backendConnected();
            } catch (IOException e) {
                backendConnectFailed(e);
                return;
            }
        }
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            try {
                backendSocket.flush();
            } catch (IOException e) {
                backendStoppedTakingData(e);
                return;
            }
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) readBackend();
    }

    /** Plaintext from the backend into OpenSSL, and the records it makes out to the client. */
    private void readBackend() {
        if (closeReason != null) return;
        int n;
        try {
            n = backendSocket.read(loop.bufferView(IoLoop.BUFFER_SIZE));
        } catch (IOException e) {
            close(backendEndedOrReset(), e.toString());
            return;
        }
        if (n < 0) {
            backendEnded = true;
            return;
        }
        if (n == 0) return;
        backendBytesIn += n;
        settings.metrics().backendIn(n);
        lastBackendActivityNanos = System.nanoTime();
        tls.writePlaintext(loop.buffer().asSlice(0, n));
        sendTlsOutput();
    }

    /**
     * Moves the connection forward after any event; the one place that decides what to read next.
     */
    private void advance() {
        if (closeReason == null) progress();
        if (closeReason != null && client.isOutputEnded() && (backendSocket == null || backendSocket.isOutputEnded()))
            finished();
    }

    private void progress() {
        if (!tls.handshakeDone()) {
            boolean done = continueHandshake();
            client.wantInput(closeReason == null && !done && !fetchingSession);
            if (!done) return;
        }

        // OpenSSL → backend: decrypt only while the backend keeps up.
        while (backendConnected && !backendSocket.isBusy() && !backendSocket.isOutputEnded()) {
            int n;
            try {
                n = tls.readPlaintext(loop.buffer());
            } catch (OpenSslException e) {
                // A record that does not authenticate, or any other violation after the handshake: the client's
                // error, not ours. OpenSSL has queued the fatal alert.
                sendTlsOutput();
                close(CloseReason.PROTOCOL_ERROR, e.getMessage());
                return;
            }
            if (n > 0) {
                backendBytesOut += n;
                settings.metrics().backendOut(n);
                lastBackendActivityNanos = System.nanoTime();
                if (!sendToBackend(loop.bufferView(n))) return;
            }
            sendTlsOutput(); // a read can produce records of its own (alerts, key updates)
            if (closeReason != null) return;
            if (n == 0) {
                if (tls.closeNotifyReceived() || clientEnded) {
                    if (firstToEnd == null) firstToEnd = CloseReason.CLIENT_CLOSED;
                    if (!finishBackend()) return;
                }
                break;
            }
        }

        // Backend → client: once the client has taken everything, pass on the backend's end.
        if (!client.isBusy() && backendEnded && !client.isOutputEnded()) {
            if (firstToEnd == null) firstToEnd = CloseReason.BACKEND_CLOSED;
            tls.sendCloseNotify();
            sendTlsOutput();
            if (closeReason != null || !finishClient()) return;
        }

        boolean clientDone = (clientEnded || tls.closeNotifyReceived()) && backendSocket != null && backendSocket.isOutputEnded();
        boolean backendDone = backendEnded && client.isOutputEnded();
        if (clientDone && backendDone) {
            close(firstToEnd, null);
            return;
        }
        // Read from one side only while the other side keeps up.
        client.wantInput(backendConnected && !backendSocket.isBusy() && !backendSocket.isOutputEnded()
                && !clientEnded && !tls.closeNotifyReceived());
        if (backendConnected)
            backendSocket.wantInput(!client.isBusy() && !client.isOutputEnded() && !backendEnded);
    }

    /** @return true once the handshake is complete and a backend connection has been started */
    private boolean continueHandshake() {
        if (fetchingSession) return false;
        if (!firstRecord.arrived()) { // see FirstRecord: OpenSSL's buffers only for a whole ClientHello
            if (clientEnded) close(CloseReason.HANDSHAKE_ABORTED, null);
            return false;
        }
        HandshakeProgress progress;
        try {
            progress = tls.handshake();
        } catch (OpenSslException e) {
            sendTlsOutput(); // the alert
            close(CloseReason.PROTOCOL_ERROR, e.getMessage());
            return false;
        }
        sendTlsOutput();
        if (closeReason != null) return false;
        if (progress == HandshakeProgress.NEEDS_SESSION) {
            // The client offers a session another node may have made a moment ago: ask, then go on.
            fetchingSession = true;
            getContext().ask(SessionReplicator.Fetched.class, settings.sessions(),
                    settings.sessionFetchTimeout().multipliedBy(2),
                    replyTo -> new SessionReplicator.Fetch(tls.wantedSessionId(), replyTo),
                    (fetched, failure) -> new SessionFetched(fetched != null && fetched.found()));
            return false;
        }
        if (progress == HandshakeProgress.NEEDS_INPUT) {
            if (clientEnded) close(CloseReason.HANDSHAKE_ABORTED, null);
            return false;
        }
        timers.cancel(HandshakeTimedOut.INSTANCE);
        if (tls.resumedFromAnotherNode()) settings.sessionMetrics().resumedFromAnotherNode();
        countHandshake();
        NodeConfig.VirtualHost vhost = settings.vhosts().get(tls.virtualHost());
        applyVirtualHostTimeouts(vhost);
        pool = settings.pools().get(vhost.pool());
        askPoolForServer();
        return true;
    }

    private void countHandshake() {
        NodeMetrics.HandshakeKind kind = !tls.resumed() ? NodeMetrics.HandshakeKind.FULL
                : tls.resumedFromAnotherNode() ? NodeMetrics.HandshakeKind.RESUMED_REMOTE
                : NodeMetrics.HandshakeKind.RESUMED_LOCAL;
        long nanos = System.nanoTime() - startNanos;
        settings.metrics().handshakeDone(kind, nanos);
        if (getContext().getLog().isDebugEnabled()) // the arguments are not free: only when someone looks
            getContext().getLog().debug("handshake done {} {} {}", kv("kind", kind.label()), kv("handshake_us", nanos / 1000),
                    kv("client", clientAddress.getAddress().getHostAddress() + ":" + clientAddress.getPort()));
    }

    // ---- backend: a server from the pool, then a connection to it ---------------------------------------------

    private void askPoolForServer() {
        settings.gateway().tell(new PoolGateway.Acquire(pool.name(), clientAddress.getAddress().getHostAddress(),
                List.copyOf(failedServers), poolAnswers, getContext().getSelf()));
        poolAsked = true;
        timers.startSingleTimer(PoolSilent.INSTANCE, pool.routing().pickTimeout()
                .plus(pool.routing().queueTimeout()).plus(POOL_ANSWER_MARGIN));
    }

    private void poolAnswered(PoolGateway.LeaseEvent event) {
        if (!(event instanceof PoolGateway.Evict)) poolAsked = false;
        switch (event) {
            case PoolGateway.Lease lease -> {
                timers.cancel(PoolSilent.INSTANCE);
                if (closeReason != null) {
                    settings.gateway().tell(new PoolGateway.Return(lease.id(), LeaseOutcome.ENDED, null));
                    return;
                }
                leaseId = lease.id();
                backend = lease.server();
                connectBackend();
            }
            case PoolGateway.Refusal refusal -> {
                timers.cancel(PoolSilent.INSTANCE);
                switch (refusal.reason()) {
                    case NO_SERVER -> close(CloseReason.BACKEND_UNAVAILABLE, failedServers.isEmpty()
                            ? "no server of pool " + pool.name() + " is up and enabled"
                            : "no server of pool " + pool.name() + " accepted the connection (tried " + failedServers + ")");
                    case QUEUE_FULL -> close(CloseReason.QUEUE_FULL, "every server of pool " + pool.name() + " is full");
                    case QUEUE_TIMEOUT -> close(CloseReason.QUEUE_TIMEOUT, "waited " + pool.routing().queueTimeout().toMillis()
                            + " ms for a server of pool " + pool.name());
                }
            }
            case PoolGateway.Evict evict -> close("disabled".equals(evict.why()) ? CloseReason.SERVER_DISABLED
                    : CloseReason.DRAIN_DEADLINE, "server " + backend.name() + " " + evict.why());
        }
    }

    private void connectBackend() {
        int attempt = ++backendAttempt;
        InetAddress literal = ipLiteral(backend.host());
        if (literal != null) {
            startConnect(new InetSocketAddress(literal, backend.port()));
            return;
        }
        // A host name: resolving may block, so not on the I/O loop.
        String host = backend.host();
        int port = backend.port();
        var blocking = getContext().getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        getContext().pipeToSelf(CompletableFuture.supplyAsync(() -> new InetSocketAddress(host, port), blocking::execute),
                (address, failure) -> failure != null ? new BackendConnectFailed(attempt, failure)
                        : address.isUnresolved() ? new BackendConnectFailed(attempt, new java.net.UnknownHostException(host))
                        : new BackendResolved(attempt, address));
    }

    private void startConnect(InetSocketAddress address) {
        int attempt = backendAttempt;
        var self = getContext().getSelf();
        try {
            backendSocket = TcpSocket.connect(address, loop, settings.timeouts().tcpKeepalive(),
                    readyOps -> self.tell(new BackendReady(attempt, readyOps)));
        } catch (IOException e) {
            backendConnectFailed(e);
            return;
        }
        timers.startSingleTimer(BackendConnectTimedOut.class, new BackendConnectTimedOut(attempt), pool.backendConnect());
        // The PROXY header goes first: plaintext waits while the socket is busy with it.
        if (pool.proxyProtocol() != null)
            sendToBackend(ByteBuffer.wrap(ProxyProtocolHeader.encode(pool.proxyProtocol(), clientAddress, localAddress,
                    new ProxyProtocolHeader.TlsDetails(tls.alpn(), tls.serverName(), tls.protocol(), tls.cipher()))));
        if (backendSocket.isConnected()) backendConnected();
    }

    private void backendConnected() {
        timers.cancel(BackendConnectTimedOut.class);
        backendConnected = true;
        lastBackendActivityNanos = System.nanoTime();
        timers.startSingleTimer(BackendIdleCheck.INSTANCE, pool.backendIdle());
        settings.gateway().tell(new PoolGateway.Connected(leaseId));
    }

    private void backendConnectFailed(Throwable cause) {
        if (closeReason != null) return; // our own abort of a connect still under way: nothing to retry, nothing to log
        timers.cancel(BackendConnectTimedOut.class);
        getContext().getLog().warn("server {} ({}) of pool {} refused a connection: {}", backend.name(), backend.address(),
                pool.name(), cause.toString());
        returnLease(LeaseOutcome.SERVER_FAILED, cause.toString());
        failedServers.add(backend.name());
        if (backendSocket != null) backendSocket.abort();
        backendSocket = null;
        // Events of the failed attempt still queued must not pass as the next one's.
        backendAttempt++;
        askPoolForServer();
    }

    /**
     * A backend that sent its FIN and then refuses our last bytes (a server closing right after its response
     * often resets) ended the conversation; only one that fails before that reset it.
     */
    private CloseReason backendEndedOrReset() {
        return backendEnded ? CloseReason.BACKEND_CLOSED : CloseReason.BACKEND_RESET;
    }

    private void returnLease(LeaseOutcome outcome) {
        returnLease(outcome, null);
    }

    /** Gives the server back to the pool, once. */
    private void returnLease(LeaseOutcome outcome, String detail) {
        if (leaseId == NO_LEASE) return;
        settings.gateway().tell(new PoolGateway.Return(leaseId, outcome, detail));
        leaseId = NO_LEASE;
    }

    // ---- timers ------------------------------------------------------------------------------------------------

    private void applyVirtualHostTimeouts(NodeConfig.VirtualHost vhost) {
        if (vhost.clientIdle() != null) {
            // The pending check was set for the listener's limit: a shorter limit of the vhost must not wait for it.
            clientIdle = vhost.clientIdle();
            Duration quiet = Duration.ofNanos(System.nanoTime() - lastClientActivityNanos);
            Duration left = clientIdle.minus(quiet);
            timers.startSingleTimer(ClientIdleCheck.INSTANCE, left.isNegative() ? Duration.ZERO : left);
        }
        if (vhost.lifetime() != null) {
            timers.cancel(LifetimeExpired.INSTANCE);
            Duration left = vhost.lifetime().minus(Duration.ofNanos(System.nanoTime() - startNanos));
            if (!vhost.lifetime().isZero()) timers.startSingleTimer(LifetimeExpired.INSTANCE, left.isNegative() ? Duration.ZERO : left);
        }
    }

    private void checkClientIdle() {
        Duration quiet = Duration.ofNanos(System.nanoTime() - lastClientActivityNanos);
        if (quiet.compareTo(clientIdle) >= 0) close(CloseReason.IDLE_CLIENT, null);
        else timers.startSingleTimer(ClientIdleCheck.INSTANCE, clientIdle.minus(quiet));
    }

    private void checkBackendIdle() {
        Duration quiet = Duration.ofNanos(System.nanoTime() - lastBackendActivityNanos);
        if (quiet.compareTo(pool.backendIdle()) >= 0) close(CloseReason.IDLE_BACKEND, null);
        else timers.startSingleTimer(BackendIdleCheck.INSTANCE, pool.backendIdle().minus(quiet));
    }

    // ---- closing -----------------------------------------------------------------------------------------------

    /**
     * Ends both sockets: FIN after our last bytes (alert or close_notify), or an abort where the peer failed.
     * A peer that does not take those last bytes within {@link #LINGER} is aborted.
     */
    private void close(CloseReason reason, String detail) {
        if (closeReason != null) return;
        closeReason = reason;
        closeDetail = detail;
        timers.cancel(HandshakeTimedOut.INSTANCE);
        timers.cancel(ClientIdleCheck.INSTANCE);
        timers.cancel(BackendIdleCheck.INSTANCE);
        timers.cancel(LifetimeExpired.INSTANCE);
        timers.cancel(PoolSilent.INSTANCE);
        // A reset before the server said anything counts against its health; one mid-conversation may be the
        // application's choice.
        returnLease(reason == CloseReason.BACKEND_RESET && backendBytesIn == 0 ? LeaseOutcome.SERVER_FAILED
                : LeaseOutcome.ENDED, detail);

        client.wantInput(false);
        if (backendSocket != null) backendSocket.wantInput(false);
        if (reason == CloseReason.CLIENT_RESET) {
            client.abort();
        } else {
            tls.sendCloseNotify();
            if (sendTlsOutput()) finishClient();
        }
        if (backendSocket != null) {
            if (backendConnected && reason != CloseReason.BACKEND_RESET) finishBackend();
            else backendSocket.abort();
        }
        timers.startSingleTimer(LingerExpired.INSTANCE, LINGER);
    }

    /** Both sockets are ended: log, report, and wait for the listener to stop us. */
    private void finished() {
        if (reported) return;
        reported = true;
        timers.cancel(LingerExpired.INSTANCE);
        client.close(loop.bufferView(IoLoop.BUFFER_SIZE));
        if (backendSocket != null) backendSocket.close(loop.bufferView(IoLoop.BUFFER_SIZE));
        logClose();
        tls.close();
        listener.tell(new Listener.ConnectionClosed(getContext().getSelf(), closeReason));
    }

    private void logClose() {
        boolean established = tls.handshakeDone();
        Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
        accessLog.info("connection closed {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
                kv("reason", closeReason.label()), kv("vhost", tls.virtualHost()), kv("sni", tls.serverName()),
                kv("protocol", established ? tls.protocol() : null), kv("cipher", established ? tls.cipher() : null),
                kv("alpn", established ? tls.alpn() : null), kv("resumed", established && tls.resumed()),
                kv("client", clientAddress.getAddress().getHostAddress() + ":" + clientAddress.getPort()),
                kv("pool", pool == null ? null : pool.name()), kv("server", backend == null ? null : backend.name()),
                kv("backend", backend == null ? null : backend.address()), kv("duration_ms", duration.toMillis()),
                kv("client_bytes_in", clientBytesIn), kv("client_bytes_out", clientBytesOut),
                kv("backend_bytes_in", backendBytesIn), kv("backend_bytes_out", backendBytesOut),
                kv("detail", closeDetail));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /**
     * Sends what OpenSSL wrote for the client, through the loop's native buffer.
     *
     * @return false if the client can no longer be written to (the connection is then closing)
     */
    private boolean sendTlsOutput() {
        int n;
        while ((n = tls.takeOutput(loop.buffer())) > 0) {
            clientBytesOut += n;
            settings.metrics().clientOut(n);
            lastClientActivityNanos = System.nanoTime();
            try {
                client.send(loop.bufferView(n));
            } catch (IOException e) {
                clientStoppedTakingData(e);
                return false;
            }
        }
        return true;
    }

    private boolean finishClient() {
        try {
            client.finish();
            return true;
        } catch (IOException e) {
            clientStoppedTakingData(e);
            return false;
        }
    }

    private void clientStoppedTakingData(IOException e) {
        client.abort();
        // Both sides had said all they had to say and only our close_notify was left: a client that reset over it
        // (typically over session tickets it never read) closed the connection. Any other failed write is a reset.
        if ((tls.closeNotifyReceived() || clientEnded) && backendEnded)
            close(firstToEnd == null ? CloseReason.CLIENT_CLOSED : firstToEnd, null);
        else close(CloseReason.CLIENT_RESET, "the client's socket stopped taking data: " + e.getMessage());
    }

    /** @return false if the backend can no longer be written to (the connection is then closing) */
    private boolean sendToBackend(ByteBuffer plaintext) {
        try {
            backendSocket.send(plaintext);
            return true;
        } catch (IOException e) {
            backendStoppedTakingData(e);
            return false;
        }
    }

    private boolean finishBackend() {
        try {
            backendSocket.finish();
            return true;
        } catch (IOException e) {
            backendStoppedTakingData(e);
            return false;
        }
    }

    private void backendStoppedTakingData(IOException e) {
        backendSocket.abort();
        if (backendConnected) close(backendEndedOrReset(), "the backend's socket stopped taking data: " + e.getMessage());
        else backendConnectFailed(e);
    }

    private static InetAddress ipLiteral(String host) {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException notALiteral) {
            return null;
        }
    }

    /** Runs one event's effect, then advances; a bug in either closes this connection, and only this one. */
    private Behavior<Command> step(Runnable effect) {
        try {
            effect.run();
            advance();
        } catch (RuntimeException e) {
            getContext().getLog().error("connection from {} failed", clientAddress, e);
            if (closeReason == null) {
                closeReason = CloseReason.INTERNAL_ERROR;
                closeDetail = e.toString();
            }
            client.abort();
            if (backendSocket != null) backendSocket.abort();
            finished();
        }
        return this;
    }

    private Behavior<Command> current(int attempt, Runnable effect) {
        return attempt == backendAttempt ? step(effect) : this;
    }
}
