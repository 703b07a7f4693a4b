package io.actortls.session;

import java.util.concurrent.atomic.LongAdder;

/**
 * This node's session-cache counters. Incremented from OpenSSL callbacks on connection threads and from the
 * replicator; read for statistics. Counters only: no decision is taken from them.
 */
public final class SessionMetrics {
    final LongAdder stored = new LongAdder();
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder remoteHits = new LongAdder();
    final LongAdder fetchHits = new LongAdder();
    final LongAdder fetchMisses = new LongAdder();
    final LongAdder fetchTimeouts = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder expiries = new LongAdder();
    final LongAdder removals = new LongAdder();
    final LongAdder resumedRemote = new LongAdder();

    /** A snapshot for statistics. */
    public SessionStats snapshot(String node, long cached, TicketKeyState keys) {
        return new SessionStats(node, cached, stored.sum(), hits.sum(), misses.sum(), remoteHits.sum(),
                resumedRemote.sum(), fetchHits.sum(), fetchMisses.sum(), fetchTimeouts.sum(), evictions.sum(),
                expiries.sum(), removals.sum(), keys.generation(), keys.ageSeconds());
    }

    /** A handshake resumed a session created on another node. */
    public void resumedFromAnotherNode() {
        resumedRemote.increment();
    }
}
