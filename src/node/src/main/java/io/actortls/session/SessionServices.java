package io.actortls.session;

import io.actortls.tls.TicketKeyRing;

/**
 * What one node's TLS side shares with its session actors: the mirror OpenSSL reads, the store it writes
 * through, the ticket keys it encrypts with, and the counters. Made before the actor system, because the TLS
 * setup (validated before anything binds) needs the store and the key ring.
 */
public record SessionServices(SessionMirror mirror, SessionMetrics metrics, ClusterSessionStore store,
                              TicketKeyRing ticketKeys, TicketKeyState ticketKeyState) {

    public static SessionServices create(int buckets) {
        SessionMirror mirror = new SessionMirror(buckets);
        SessionMetrics metrics = new SessionMetrics();
        return new SessionServices(mirror, metrics, new ClusterSessionStore(mirror, metrics), new TicketKeyRing(),
                new TicketKeyState());
    }

    public SessionStats stats(String node) {
        return metrics.snapshot(node, mirror.size(), ticketKeyState);
    }
}
