package io.actortls.tls;

/** Where a handshake stands after {@link TlsConnection#handshake()}. */
public enum HandshakeProgress {
    /** Finished: application data can flow. */
    DONE,
    /** Waiting for more bytes from the client. */
    NEEDS_INPUT,
    /**
     * Paused in the ClientHello: the client offers a session the {@link SessionStore} does not hold locally.
     * Fetch {@link TlsConnection#wantedSessionId()}, then call {@link TlsConnection#finishSessionFetch()} and
     * {@link TlsConnection#handshake()} again; the handshake then resumes or falls back to a full one.
     */
    NEEDS_SESSION
}
