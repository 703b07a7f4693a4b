package io.actortls.tls;

/** OpenSSL refused a piece of a listener's TLS setup; {@link #part()} and {@link #virtualHost()} say which. */
public final class TlsSetupException extends RuntimeException {
    public enum Part { VERSIONS, CIPHERS, CIPHERSUITES, GROUPS, SERVER_NAMES, DEFAULT_VHOST, CERTIFICATE, PRIVATE_KEY, KEY_MISMATCH }

    private final Part part;
    private final String virtualHost;

    TlsSetupException(Part part, String virtualHost, String message, Throwable cause) {
        super(message, cause);
        this.part = part;
        this.virtualHost = virtualHost;
    }

    public Part part() {
        return part;
    }

    /** The virtual host concerned, or null for listener-wide settings. */
    public String virtualHost() {
        return virtualHost;
    }
}
