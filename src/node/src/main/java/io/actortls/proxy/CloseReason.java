package io.actortls.proxy;

/** Why a client connection ended. Every close is counted under exactly one of these. */
public enum CloseReason {
    /** The client ended the conversation first (close_notify or FIN), the rest was delivered. */
    CLIENT_CLOSED("client-closed"),
    /** The backend ended the conversation first, the rest was delivered. */
    BACKEND_CLOSED("backend-closed"),
    /** The client reset the connection, or its socket failed. */
    CLIENT_RESET("client-reset"),
    /** The backend reset the connection, or its socket failed. */
    BACKEND_RESET("backend-reset"),
    /** The client went away before the handshake finished. */
    HANDSHAKE_ABORTED("handshake-aborted"),
    /** The handshake did not finish within timeouts.handshake. */
    HANDSHAKE_TIMEOUT("handshake-timeout"),
    /**
     * The listener was at max-connections with clients waiting, and this was its oldest connection still in its
     * handshake after preempt-handshakes-after: closed to make room.
     */
    HANDSHAKE_PREEMPTED("handshake-preempted"),
    /** Not TLS, a TLS protocol violation, or a handshake OpenSSL refused (version, cipher, SNI). */
    PROTOCOL_ERROR("protocol-error"),
    /** No bytes from or to the client within timeouts.client-idle. */
    IDLE_CLIENT("idle-client"),
    /** No bytes from or to the backend within timeouts.backend-idle. */
    IDLE_BACKEND("idle-backend"),
    /** Open for timeouts.lifetime. */
    LIFETIME("lifetime"),
    /** No server of the pool is up and enabled, or none accepted the connection. */
    BACKEND_UNAVAILABLE("backend-unavailable"),
    /** Every server was at max-connections and the pool's queue was full. */
    QUEUE_FULL("queue-full"),
    /** Every server stayed at max-connections for the pool's queue timeout. */
    QUEUE_TIMEOUT("queue-timeout"),
    /** The server was drained and the pool's drain-deadline passed. */
    DRAIN_DEADLINE("drain-deadline"),
    /** The server was disabled by an operator. */
    SERVER_DISABLED("server-disabled"),
    /** The node is shutting down. */
    SHUTDOWN("shutdown"),
    /** A bug in ActorTls: the connection actor failed. Logged with its stack trace. */
    INTERNAL_ERROR("internal-error");

    private final String label;

    CloseReason(String label) {
        this.label = label;
    }

    /** The name used in logs and metrics. */
    public String label() {
        return label;
    }
}
