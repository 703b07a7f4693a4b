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
    /** Not TLS, a TLS protocol violation, or a handshake OpenSSL refused (version, cipher, SNI). */
    PROTOCOL_ERROR("protocol-error"),
    /** No bytes in either direction within timeouts.idle. */
    IDLE_TIMEOUT("idle-timeout"),
    /** No backend of the vhost accepted the connection. */
    BACKEND_UNAVAILABLE("backend-unavailable"),
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
