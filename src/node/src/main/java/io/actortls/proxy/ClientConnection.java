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
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, end to end: ciphertext from the client → OpenSSL → plaintext to a backend, and
 * plaintext from the backend → OpenSSL → ciphertext to the client.
 *
 * <p>Both sockets are Pekko TCP streams whose reading side waits for our acknowledgement before it delivers
 * the next chunk. Back-pressure is the rule in {@link #advance()}: a chunk read from one socket is
 * acknowledged only when everything it produced has been accepted by the other socket ({@link Outlet#isBusy()}).
 * So a slow reader on either side stops reading on the other side, and at most one chunk per direction is
 * in memory.
 *
 * <p>Every way out goes through {@link #close}, which ends both sockets, reports one {@link CloseReason} to the
 * {@link Listener}, logs one line, and frees the TLS connection (also on PostStop, once).
 */
public final class ClientConnection extends AbstractBehavior<ClientConnection.Command> {

    public sealed interface Command {}

    // The client's socket.
    record ClientStreamStarted(ActorRef<StreamAck> ack) implements Command {}
    record ClientBytes(ActorRef<StreamAck> ack, ByteString bytes) implements Command {}
    record ClientEnded() implements Command {}
    record ClientFailed(Throwable cause) implements Command {}
    record ClientWriteAcknowledged() implements Command {}
    record ClientWritingEnded() implements Command {}

    // The backend's socket; `attempt` tells the live connection from leftovers of a failed one.
    record BackendConnected(int attempt) implements Command {}
    record BackendConnectFailed(int attempt, Throwable cause) implements Command {}
    record BackendStreamStarted(int attempt, ActorRef<StreamAck> ack) implements Command {}
    record BackendBytes(int attempt, ActorRef<StreamAck> ack, ByteString bytes) implements Command {}
    record BackendEnded(int attempt) implements Command {}
    record BackendFailed(int attempt, Throwable cause) implements Command {}
    record BackendWriteAcknowledged(int attempt) implements Command {}
    record BackendWritingEnded(int attempt) implements Command {}

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
    /** Most plaintext decrypted per step: one write to the backend at a time, of at most this much. */
    private static final int MAX_PLAINTEXT_CHUNK = 64 * 1024;
    /** How long a closing connection waits for its last bytes (alert, close_notify) to reach the kernel. */
    private static final Duration LINGER = Duration.ofSeconds(2);
    /** Beyond the pool's own limits (pick timeout, queue timeout): the gateway always answers well before. */
    private static final Duration POOL_ANSWER_MARGIN = Duration.ofSeconds(2);
    private static final long NO_LEASE = -1;

    public static Behavior<Command> create(Tcp.IncomingConnection incoming, Settings settings,
                                           ActorRef<Listener.Command> listener) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new ClientConnection(ctx, timers, incoming, settings, listener)));
    }

    private final TimerScheduler<Command> timers;
    private final Settings settings;
    private final ActorRef<Listener.Command> listener;
    private final Materializer materializer;
    private final InetSocketAddress clientAddress;
    private final InetSocketAddress localAddress;
    private final TlsConnection tls;
    private final ActorRef<PoolGateway.LeaseEvent> poolAnswers;
    private final Outlet toClient = new Outlet();
    private Outlet toBackend = new Outlet();       // replaced for each backend tried
    private final long startNanos = System.nanoTime();
    private long lastClientActivityNanos = startNanos;
    private long lastBackendActivityNanos;
    private Duration clientIdle;               // the listener's, then the vhost's

    private ActorRef<StreamAck> clientAck;   // held while a client chunk is being forwarded
    private ActorRef<StreamAck> backendAck;  // held while a backend chunk is being forwarded
    private boolean clientEnded;
    private boolean backendEnded;
    private NodeConfig.Pool pool;
    private final List<String> failedServers = new ArrayList<>();
    private long leaseId = NO_LEASE;
    private int backendAttempt;
    private ServerSpec backend;
    private boolean backendConnected;
    private CloseReason firstToEnd;          // CLIENT_CLOSED or BACKEND_CLOSED, whichever side finished first
    private boolean fetchingSession;         // the handshake is paused while the cluster looks for a session

    private CloseReason closeReason;         // non-null once closing
    private String closeDetail;
    private boolean reported;
    private long clientBytesIn, clientBytesOut, backendBytesIn, backendBytesOut;

    private ClientConnection(ActorContext<Command> ctx, TimerScheduler<Command> timers, Tcp.IncomingConnection incoming,
                             Settings settings, ActorRef<Listener.Command> listener) {
        super(ctx);
        this.timers = timers;
        this.settings = settings;
        this.listener = listener;
        this.materializer = Materializer.matFromSystem(ctx.getSystem());
        this.clientAddress = incoming.remoteAddress();
        this.localAddress = incoming.localAddress();
        this.tls = settings.tls().newConnection();
        this.poolAnswers = ctx.messageAdapter(PoolGateway.LeaseEvent.class, PoolAnswered::new);
        this.clientIdle = settings.timeouts().clientIdle();
        timers.startSingleTimer(HandshakeTimedOut.INSTANCE, settings.timeouts().handshake());
        timers.startSingleTimer(ClientIdleCheck.INSTANCE, clientIdle);
        if (!settings.timeouts().lifetime().isZero())
            timers.startSingleTimer(LifetimeExpired.INSTANCE, settings.timeouts().lifetime());

        var fromClient = ActorSink.<ByteString, Command, StreamAck>actorRefWithBackpressure(ctx.getSelf(),
                ClientBytes::new, ClientStreamStarted::new, StreamAck.INSTANCE, new ClientEnded(), ClientFailed::new);
        Pair<ActorRef<Outbound>, UniqueKillSwitch> out = incoming.handleWith(
                Flow.fromSinkAndSourceMat(fromClient,
                        outboundSource(new ClientWriteAcknowledged(), new ClientWritingEnded()), Keep.right()),
                materializer);
        toClient.attach(out.first(), out.second());
    }

    /**
     * The stream that writes to one socket: our {@link Outbound} messages in, an acknowledgement out for each,
     * a kill switch to abort it, and {@code ended} once the socket's writing half is gone for any reason
     * (FIN sent, peer reset, abort), so that closing never waits on a socket that cannot take more bytes.
     */
    private Source<ByteString, Pair<ActorRef<Outbound>, UniqueKillSwitch>> outboundSource(Command acknowledgement,
                                                                                         Command ended) {
        return ActorSource.<Outbound, Command>actorRefWithBackpressure(getContext().getSelf(), acknowledgement,
                        Outbound::completion, Outbound::failure)
                .map(Outbound::bytes)
                .viaMat(KillSwitches.single(), Keep.both())
                .watchTermination((materialized, done) -> {
                    getContext().pipeToSelf(done, (ok, failure) -> ended);
                    return materialized;
                });
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(ClientStreamStarted.class, m -> step(() -> clientAck = m.ack()))
                .onMessage(ClientBytes.class, m -> step(() -> fromClient(m)))
                .onMessage(ClientEnded.class, m -> step(() -> clientEnded = true))
                .onMessage(ClientFailed.class, m -> step(() -> close(
                        tls.handshakeDone() ? CloseReason.CLIENT_RESET : CloseReason.HANDSHAKE_ABORTED, m.cause().toString())))
                .onMessage(ClientWriteAcknowledged.class, m -> step(toClient::acknowledged))
                .onMessage(ClientWritingEnded.class, m -> step(() -> {
                    if (toClient.streamEnded()) close(CloseReason.CLIENT_RESET, "the client's socket stopped taking data");
                }))
                .onMessage(BackendConnected.class, m -> current(m.attempt(), this::backendConnected))
                .onMessage(BackendConnectFailed.class, m -> current(m.attempt(), () -> backendConnectFailed(m.cause())))
                .onMessage(BackendStreamStarted.class, m -> current(m.attempt(), () -> backendAck = m.ack()))
                .onMessage(BackendBytes.class, m -> current(m.attempt(), () -> fromBackend(m)))
                .onMessage(BackendEnded.class, m -> current(m.attempt(), () -> backendEnded = backendConnected))
                .onMessage(BackendFailed.class, m -> current(m.attempt(), () -> {
                    if (backendConnected) close(backendEndedOrReset(), m.cause().toString());
                }))
                .onMessage(BackendWriteAcknowledged.class, m -> current(m.attempt(), toBackend::acknowledged))
                .onMessage(BackendWritingEnded.class, m -> current(m.attempt(), () -> {
                    if (toBackend.streamEnded() && backendConnected)
                        close(backendEndedOrReset(), "the backend's socket stopped taking data");
                }))
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
                .onMessage(LingerExpired.class, m -> step(() -> {
                    toClient.abort();
                    toBackend.abort();
                }))
                .onSignal(PostStop.class, s -> {
                    // Stopped by the listener after our report, or by the node shutting down.
                    toClient.abort();
                    toBackend.abort();
                    if (!reported) {
                        if (closeReason == null) closeReason = CloseReason.SHUTDOWN;
                        logClose();
                    }
                    returnLease(LeaseOutcome.ENDED);
                    tls.close();
                    return this;
                })
                .build();
    }

    // ---- client → OpenSSL ----------------------------------------------------------------------------------

    private void fromClient(ClientBytes m) {
        clientAck = m.ack();
        byte[] ciphertext = m.bytes().toArrayUnsafe();
        clientBytesIn += ciphertext.length;
        settings.metrics().clientIn(ciphertext.length);
        lastClientActivityNanos = System.nanoTime();
        if (closeReason == null) tls.receive(ciphertext, 0, ciphertext.length);
    }

    // ---- backend → OpenSSL → client --------------------------------------------------------------------------

    private void fromBackend(BackendBytes m) {
        backendAck = m.ack();
        byte[] plaintext = m.bytes().toArrayUnsafe();
        backendBytesIn += plaintext.length;
        settings.metrics().backendIn(plaintext.length);
        lastBackendActivityNanos = System.nanoTime();
        if (closeReason != null) return;
        tls.writePlaintext(plaintext, 0, plaintext.length);
        sendTlsOutput();
    }

    /**
     * Moves the connection forward after any event; the one place that decides what to read next.
     */
    private void advance() {
        if (closeReason != null) {
            if (toClient.isEnded() && toBackend.isEnded()) finished();
            return;
        }
        if (!tls.handshakeDone()) {
            if (!continueHandshake()) return;
        }

        // OpenSSL → backend: decrypt only while the backend keeps up.
        if (backendConnected && !toBackend.isBusy() && !toBackend.isEnded()) {
            byte[] plaintext;
            try {
                plaintext = tls.readPlaintext(MAX_PLAINTEXT_CHUNK);
            } catch (OpenSslException e) {
                // A record that does not authenticate, or any other violation after the handshake: the client's
                // error, not ours. OpenSSL has queued the fatal alert.
                sendTlsOutput();
                close(CloseReason.PROTOCOL_ERROR, e.getMessage());
                return;
            }
            sendTlsOutput(); // a read can produce records of its own (alerts, key updates)
            if (plaintext.length > 0) {
                backendBytesOut += plaintext.length;
                settings.metrics().backendOut(plaintext.length);
                lastBackendActivityNanos = System.nanoTime();
                toBackend.offer(ByteString.fromArrayUnsafe(plaintext));
            } else if (tls.closeNotifyReceived() || clientEnded) {
                if (firstToEnd == null) firstToEnd = CloseReason.CLIENT_CLOSED;
                toBackend.finish();
            } else {
                release(clientAck);
                clientAck = null;
            }
        }

        // Backend → client: take the next backend chunk only when the client has taken the last one.
        // (The backend's end may arrive while its last chunk is still held: the stream does not wait for our ack.)
        if (!toClient.isBusy()) {
            release(backendAck);
            backendAck = null;
            if (backendEnded && !toClient.isEnded()) {
                if (firstToEnd == null) firstToEnd = CloseReason.BACKEND_CLOSED;
                tls.sendCloseNotify();
                sendTlsOutput();
                toClient.finish();
            }
        }

        boolean clientDone = (clientEnded || tls.closeNotifyReceived()) && toBackend.isEnded();
        boolean backendDone = backendEnded && toClient.isEnded();
        if (clientDone && backendDone) close(firstToEnd, null);
    }

    /** @return true once the handshake is complete and a backend connection has been started */
    private boolean continueHandshake() {
        if (fetchingSession) return false;
        HandshakeProgress progress;
        try {
            progress = tls.handshake();
        } catch (OpenSslException e) {
            sendTlsOutput(); // the alert
            close(CloseReason.PROTOCOL_ERROR, e.getMessage());
            return false;
        }
        sendTlsOutput();
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
            else {
                release(clientAck);
                clientAck = null;
            }
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
        timers.startSingleTimer(PoolSilent.INSTANCE, pool.routing().pickTimeout()
                .plus(pool.routing().queueTimeout()).plus(POOL_ANSWER_MARGIN));
    }

    private void poolAnswered(PoolGateway.LeaseEvent event) {
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
        var self = getContext().getSelf();
        List<org.apache.pekko.io.Inet.SocketOption> options = settings.timeouts().tcpKeepalive().isZero()
                ? List.of() : List.of(new TcpKeepAlive(settings.timeouts().tcpKeepalive()));
        var tcp = Tcp.get(getContext().getSystem()).outgoingConnection(
                InetSocketAddress.createUnresolved(backend.host(), backend.port()), Optional.empty(), options,
                true, Optional.of(pool.backendConnect()), Optional.empty());
        var fromBackend = ActorSink.<ByteString, Command, StreamAck>actorRefWithBackpressure(self,
                (ack, bytes) -> new BackendBytes(attempt, ack, bytes), ack -> new BackendStreamStarted(attempt, ack),
                StreamAck.INSTANCE, new BackendEnded(attempt), cause -> new BackendFailed(attempt, cause));
        var materialized = outboundSource(new BackendWriteAcknowledged(attempt), new BackendWritingEnded(attempt))
                .viaMat(tcp, Keep.both())
                .to(fromBackend)
                .run(materializer);
        toBackend.attach(materialized.first().first(), materialized.first().second());
        // The PROXY header goes first: plaintext waits while the outlet is busy with it.
        if (pool.proxyProtocol() != null)
            toBackend.offer(ByteString.fromArrayUnsafe(ProxyProtocolHeader.encode(pool.proxyProtocol(), clientAddress,
                    localAddress, new ProxyProtocolHeader.TlsDetails(tls.alpn(), tls.serverName(), tls.protocol(), tls.cipher()))));
        getContext().pipeToSelf(materialized.second(), (connected, failure) -> failure == null
                ? new BackendConnected(attempt) : new BackendConnectFailed(attempt, failure));
    }

    private void backendConnected() {
        backendConnected = true;
        lastBackendActivityNanos = System.nanoTime();
        timers.startSingleTimer(BackendIdleCheck.INSTANCE, pool.backendIdle());
        settings.gateway().tell(new PoolGateway.Connected(leaseId));
    }

    private void backendConnectFailed(Throwable cause) {
        if (closeReason != null) return; // our own abort of a connect still under way: nothing to retry, nothing to log
        getContext().getLog().warn("server {} ({}) of pool {} refused a connection: {}", backend.name(), backend.address(),
                pool.name(), cause.toString());
        returnLease(LeaseOutcome.SERVER_FAILED, cause.toString());
        failedServers.add(backend.name());
        toBackend.abort();
        toBackend = new Outlet();
        // The failed attempt's stream still reports its end; until the next server is known that report would
        // pass as current and end the new outlet, and the request would never go out.
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

        if (reason == CloseReason.CLIENT_RESET) {
            toClient.abort();
        } else {
            tls.sendCloseNotify();
            sendTlsOutput();
            toClient.finish();
        }
        if (backendConnected && reason != CloseReason.BACKEND_RESET) toBackend.finish();
        else toBackend.abort();
        timers.startSingleTimer(LingerExpired.INSTANCE, LINGER);
    }

    /** Both sockets are ended: log, report, and wait for the listener to stop us. */
    private void finished() {
        if (reported) return;
        reported = true;
        timers.cancel(LingerExpired.INSTANCE);
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

    private void sendTlsOutput() {
        if (tls.pendingOutput() == 0) return;
        byte[] ciphertext = tls.takeOutput();
        clientBytesOut += ciphertext.length;
        settings.metrics().clientOut(ciphertext.length);
        lastClientActivityNanos = System.nanoTime();
        toClient.offer(ByteString.fromArrayUnsafe(ciphertext));
    }

    private static void release(ActorRef<StreamAck> ack) {
        if (ack != null) ack.tell(StreamAck.INSTANCE);
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
            toClient.abort();
            toBackend.abort();
            finished();
        }
        return this;
    }

    private Behavior<Command> current(int attempt, Runnable effect) {
        return attempt == backendAttempt ? step(effect) : this;
    }
}
