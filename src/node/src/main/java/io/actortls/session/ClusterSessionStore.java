package io.actortls.session;

import io.actortls.tls.SessionStore;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The {@link SessionStore} OpenSSL's callbacks use on this node: reads come from the local
 * {@link SessionMirror} (never waiting on the network), writes go into the mirror at once and to the
 * {@link SessionReplicator}, which spreads them through the cluster.
 */
public final class ClusterSessionStore implements SessionStore {
    private final SessionMirror mirror;
    private final SessionMetrics metrics;
    // Set once by the node's guardian before any listener accepts a connection (the TLS setup, which needs this
    // store, is validated before the actor system exists).
    private volatile String selfAddress;
    private volatile ActorRef<SessionReplicator.Command> replicator;

    public ClusterSessionStore(SessionMirror mirror, SessionMetrics metrics) {
        this.mirror = mirror;
        this.metrics = metrics;
    }

    /** Connects the store to this node's replicator; {@code selfAddress} marks the sessions made here. */
    public void attach(ActorRef<SessionReplicator.Command> replicator, String selfAddress) {
        this.selfAddress = selfAddress;
        this.replicator = replicator;
    }

    @Override
    public void store(byte[] id, byte[] der, byte[] idContext, long expiresAt) {
        String key = SessionMirror.key(id);
        SessionEntry entry = new SessionEntry(der, idContext, expiresAt, System.currentTimeMillis(), selfAddress);
        mirror.put(key, entry);
        metrics.stored.increment();
        replicator.tell(new SessionReplicator.Put(key, entry));
    }

    @Override
    public Found lookup(byte[] id) {
        SessionEntry entry = mirror.get(SessionMirror.key(id));
        if (entry == null || entry.isExpired(System.currentTimeMillis() / 1000)) {
            metrics.misses.increment();
            return null;
        }
        boolean remote = !selfAddress.equals(entry.origin());
        metrics.hits.increment();
        if (remote) metrics.remoteHits.increment();
        return new Found(entry.der(), remote);
    }

    @Override
    public boolean holds(byte[] id) {
        SessionEntry entry = mirror.get(SessionMirror.key(id));
        return entry != null && !entry.isExpired(System.currentTimeMillis() / 1000);
    }

    @Override
    public void remove(byte[] id) {
        String key = SessionMirror.key(id);
        SessionEntry revoked = SessionEntry.revoked(selfAddress);
        mirror.put(key, revoked); // at once here; the other nodes through the replicator
        metrics.removals.increment();
        replicator.tell(new SessionReplicator.Remove(key, revoked));
    }
}
