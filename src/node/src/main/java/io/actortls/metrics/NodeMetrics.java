package io.actortls.metrics;

import io.actortls.node.ClusterMessage;
import io.actortls.proxy.CloseReason;
import io.actortls.session.SessionServices;
import io.actortls.session.SessionStats;
import io.actortls.tls.TlsConnection;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One node's Prometheus metrics, in a registry of its own (never the JVM-wide default: several nodes may share a
 * JVM in tests). Connections, listeners and the pool gateway record into it; the session-cache and ticket-key
 * figures are read from the node's existing counters when scraped, so nothing is counted twice.
 *
 * <p>Everything here is counted once per connection, handshake, pick or close, except the byte counters, which
 * grow by each chunk a socket delivers (up to 64 KiB, one lock-free add): a per-close total would leave a
 * long-lived connection invisible to {@code rate()} until it ends.
 */
public final class NodeMetrics {
    /** The content type of {@link #scrape()}: the Prometheus text format 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    /** How a handshake ended up: a new session, or one resumed from this node's or another node's cache. */
    public enum HandshakeKind {
        FULL("full"), RESUMED_LOCAL("resumed_local"), RESUMED_REMOTE("resumed_remote");

        private final String label;

        HandshakeKind(String label) {
            this.label = label;
        }

        /** The name used in metrics and logs. */
        public String label() {
            return label;
        }
    }

    private static final double[] HANDSHAKE_BOUNDS =
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] PICK_BOUNDS =
            {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

    // Exemplars are off throughout: there is no tracing to link them to, and they would cost every increment a check.
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Map<HandshakeKind, CounterDataPoint> handshakes = new EnumMap<>(HandshakeKind.class);
    private final Map<HandshakeKind, DistributionDataPoint> handshakeSeconds = new EnumMap<>(HandshakeKind.class);
    private final Map<CloseReason, CounterDataPoint> closes = new EnumMap<>(CloseReason.class);
    private final CounterDataPoint accepted;
    private final Gauge open;
    private final CounterDataPoint clientIn, clientOut, backendIn, backendOut;
    private final Histogram pickSeconds;
    private final Gauge serverConnections;
    private final Counter serverPicks;
    /** pool → server → its data point of {@link #serverPicks}, so that {@link #figures()} can list them. */
    private final Map<String, Map<String, CounterDataPoint>> picksByServer = new ConcurrentHashMap<>();

    /**
     * This node's counters as the dashboard reads them (rates are differences between two readings).
     *
     * @param handshakes  completed handshakes by kind label ({@link HandshakeKind#label()})
     * @param bytes       by direction: client_in, client_out, backend_in, backend_out
     * @param serverPicks pool → server → connections this node gave the server since it started
     */
    public record Figures(Map<String, Long> handshakes, long accepted, long open, Map<String, Long> bytes,
                          Map<String, Map<String, Long>> serverPicks) implements ClusterMessage {}

    private NodeMetrics(SessionServices sessions) {
        Counter handshakeCounter = Counter.builder().name("actortls_tls_handshakes_total")
                .help("TLS handshakes completed, by kind: full, resumed_local (a session made on this node), "
                        + "resumed_remote (a session made on another node)")
                .labelNames("kind").withoutExemplars().register(registry);
        Histogram handshakeHistogram = Histogram.builder().name("actortls_tls_handshake_duration_seconds")
                .help("Time from accepting the connection to the completed TLS handshake, by kind")
                .labelNames("kind").classicOnly().classicUpperBounds(HANDSHAKE_BOUNDS).withoutExemplars()
                .register(registry);
        for (HandshakeKind kind : HandshakeKind.values()) {
            handshakes.put(kind, handshakeCounter.labelValues(kind.label));
            handshakeSeconds.put(kind, handshakeHistogram.labelValues(kind.label));
        }

        accepted = Counter.builder().name("actortls_connections_accepted_total")
                .help("Client connections accepted by this node's listeners").withoutExemplars().register(registry);
        open = Gauge.builder().name("actortls_connections_open")
                .help("Client connections open on this node").withoutExemplars().register(registry);
        // Read from the TLS binding's own count when scraped: a connection that ended without freeing its SSL
        // shows here as more than actortls_connections_open.
        GaugeWithCallback.builder().name("actortls_tls_connections_live")
                .help("OpenSSL connections (SSL with its BIOs) allocated and not yet freed, in this process")
                .callback(cb -> cb.call(TlsConnection.liveCount())).register(registry);
        Counter closeCounter = Counter.builder().name("actortls_connections_closed_total")
                .help("Client connections closed, by reason (see CloseReason in the docs)")
                .labelNames("reason").withoutExemplars().register(registry);
        for (CloseReason reason : CloseReason.values()) closes.put(reason, closeCounter.labelValues(reason.label()));

        Counter bytes = Counter.builder().name("actortls_bytes_total")
                .help("Bytes through this node: client_in/client_out are TLS bytes from/to clients, "
                        + "backend_in/backend_out plaintext from/to backends")
                .labelNames("direction").withoutExemplars().register(registry);
        clientIn = bytes.labelValues("client_in");
        clientOut = bytes.labelValues("client_out");
        backendIn = bytes.labelValues("backend_in");
        backendOut = bytes.labelValues("backend_out");

        pickSeconds = Histogram.builder().name("actortls_pool_pick_duration_seconds")
                .help("Time from a connection asking its pool for a server to the server being known, by pool")
                .labelNames("pool").classicOnly().classicUpperBounds(PICK_BOUNDS).withoutExemplars()
                .register(registry);
        serverConnections = Gauge.builder().name("actortls_server_connections")
                .help("Connections this node's clients hold to each server (this node's leases, not the cluster's)")
                .labelNames("pool", "server").withoutExemplars().register(registry);
        serverPicks = Counter.builder().name("actortls_server_picks_total")
                .help("Connections this node gave each server since it started (its share of new connections)")
                .labelNames("pool", "server").withoutExemplars().register(registry);

        Supplier<SessionStats> stats = () -> sessions.stats("");
        GaugeWithCallback.builder().name("actortls_session_cache_entries")
                .help("Sessions held in this node's copy of the cluster's session cache")
                .callback(cb -> cb.call(sessions.mirror().size())).register(registry);
        CounterWithCallback.builder().name("actortls_session_cache_stored_total")
                .help("Sessions this node's handshakes created and stored in the cache")
                .callback(cb -> cb.call(stats.get().stored())).register(registry);
        CounterWithCallback.builder().name("actortls_session_cache_lookups_total")
                .help("Session-cache lookups by resuming handshakes on this node: hit (found) or miss (not found, after any fetch)")
                .labelNames("result").callback(cb -> {
                    SessionStats s = stats.get();
                    cb.call(s.hits(), "hit");
                    cb.call(s.misses(), "miss");
                }).register(registry);
        CounterWithCallback.builder().name("actortls_session_cache_remote_hits_total")
                .help("Lookup hits on a session that another node created")
                .callback(cb -> cb.call(stats.get().remoteHits())).register(registry);
        CounterWithCallback.builder().name("actortls_session_cache_fetches_total")
                .help("Sessions asked of the other nodes while a handshake waited: hit, miss (no node held it) or timeout")
                .labelNames("result").callback(cb -> {
                    SessionStats s = stats.get();
                    cb.call(s.fetchHits(), "hit");
                    cb.call(s.fetchMisses(), "miss");
                    cb.call(s.fetchTimeouts(), "timeout");
                }).register(registry);
        CounterWithCallback.builder().name("actortls_session_cache_dropped_total")
                .help("Sessions dropped from this node's cache: evicted (cache full), expired, removed (revoked)")
                .labelNames("cause").callback(cb -> {
                    SessionStats s = stats.get();
                    cb.call(s.evictions(), "evicted");
                    cb.call(s.expiries(), "expired");
                    cb.call(s.removals(), "removed");
                }).register(registry);
        GaugeWithCallback.builder().name("actortls_ticket_key_age_seconds")
                .help("Age of the session-ticket keys this node encrypts with (0 before the first are installed)")
                .callback(cb -> cb.call(sessions.ticketKeyState().ageSeconds())).register(registry);
        GaugeWithCallback.builder().name("actortls_ticket_key_generation")
                .help("Generation of the session-ticket keys this node has installed (0 before the first)")
                .callback(cb -> cb.call(sessions.ticketKeyState().generation())).register(registry);
    }

    public static NodeMetrics create(SessionServices sessions) {
        return new NodeMetrics(sessions);
    }

    public void handshakeDone(HandshakeKind kind, long nanos) {
        handshakes.get(kind).inc();
        handshakeSeconds.get(kind).observe(nanos / 1e9);
    }

    public void accepted() {
        accepted.inc();
        open.inc();
    }

    public void closed(CloseReason reason) {
        closes.get(reason).inc();
        open.dec();
    }

    public void clientIn(long bytes) {
        clientIn.inc(bytes);
    }

    public void clientOut(long bytes) {
        clientOut.inc(bytes);
    }

    public void backendIn(long bytes) {
        backendIn.inc(bytes);
    }

    public void backendOut(long bytes) {
        backendOut.inc(bytes);
    }

    public void picked(String pool, long nanos) {
        pickSeconds.labelValues(pool).observe(nanos / 1e9);
    }

    public void serverLeased(String pool, String server) {
        serverConnections.labelValues(pool, server).inc();
        picksByServer.computeIfAbsent(pool, p -> new ConcurrentHashMap<>())
                .computeIfAbsent(server, name -> serverPicks.labelValues(pool, name)).inc();
    }

    public void serverReturned(String pool, String server) {
        serverConnections.labelValues(pool, server).dec();
    }

    public Figures figures() {
        Map<String, Long> byKind = new TreeMap<>();
        handshakes.forEach((kind, count) -> byKind.put(kind.label(), count.getLongValue()));
        Map<String, Map<String, Long>> picks = new TreeMap<>();
        picksByServer.forEach((pool, servers) -> {
            Map<String, Long> counts = new TreeMap<>();
            servers.forEach((server, count) -> counts.put(server, count.getLongValue()));
            picks.put(pool, counts);
        });
        return new Figures(byKind, accepted.getLongValue(), (long) open.get(),
                Map.of("client_in", clientIn.getLongValue(), "client_out", clientOut.getLongValue(),
                        "backend_in", backendIn.getLongValue(), "backend_out", backendOut.getLongValue()), picks);
    }

    /** Every metric in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public byte[] scrape() {
        var out = new ByteArrayOutputStream(16 * 1024);
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }
}
