package io.actortls.tls;

/**
 * Where a {@link TlsFrontend} keeps TLS sessions when OpenSSL's internal cache is off: TLS 1.2 session IDs and
 * TLS 1.3 stateful tickets. OpenSSL calls these synchronously on the handshake's thread, so implementations
 * answer from local memory and never block; a session that is not local yet is fetched while the handshake is
 * paused (see {@link TlsConnection#handshake()} and {@link HandshakeProgress#NEEDS_SESSION}).
 *
 * <p>The DER bytes contain the session's master secret: never log them, never write them to disk in clear.
 */
public interface SessionStore {
    /** A cached session: its DER encoding, and whether it was created by another node. */
    record Found(byte[] der, boolean remote) {}

    /**
     * A new session to cache.
     *
     * @param idContext the session ID context (the vhost's), which OpenSSL checks again on resumption
     * @param expiresAt epoch seconds: session time + timeout
     */
    void store(byte[] id, byte[] der, byte[] idContext, long expiresAt);

    /** The session with this ID if it is held locally and not expired, else null. Counted as a hit or a miss. */
    Found lookup(byte[] id);

    /** Whether {@link #lookup} would find the session now; not counted. */
    boolean holds(byte[] id);

    /** OpenSSL found the session unusable (e.g. after a fatal alert): forget it everywhere. */
    void remove(byte[] id);
}
