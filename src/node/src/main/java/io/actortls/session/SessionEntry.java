package io.actortls.session;

import io.actortls.node.ClusterMessage;

/**
 * One cached TLS session as the cluster holds it. {@code der} is OpenSSL's encoding, master secret included:
 * it is never logged ({@link #toString()} leaves it out) and never written to disk.
 *
 * @param idContext the vhost's session ID context, which OpenSSL checks again on resumption
 * @param expiresAt epoch seconds (session time + timeout); an expired entry is never used
 * @param createdAt epoch milliseconds, for evicting the oldest first
 * @param origin    the address of the node that created it
 */
public record SessionEntry(byte[] der, byte[] idContext, long expiresAt, long createdAt, String origin)
        implements ClusterMessage {

    /**
     * What a removal writes in place of the session: an entry that is already expired. The map is last-writer-wins
     * per key, so the later marker beats the session on every node, in whatever order the two arrive — which a
     * plain map removal cannot promise for a session a node has not received yet. The sweep deletes markers later.
     */
    static SessionEntry revoked(String origin) {
        return new SessionEntry(new byte[0], new byte[0], 0, System.currentTimeMillis(), origin);
    }

    boolean isExpired(long nowEpochSeconds) {
        return expiresAt <= nowEpochSeconds;
    }

    @Override
    public String toString() {
        return "SessionEntry[expiresAt=" + expiresAt + ", createdAt=" + createdAt + ", origin=" + origin + "]";
    }
}
