package io.actortls.tls;

import java.time.Duration;

/**
 * Protocol settings shared by every virtual host of a listener. OpenSSL copies versions and groups into each
 * connection when it is created, before SNI is known, so they cannot differ per virtual host; ciphers it reads
 * from the connection's current context, so every virtual host's context gets the same lists.
 *
 * @param minVersion     {@link TlsConstants#TLS1_2_VERSION} or {@link TlsConstants#TLS1_3_VERSION}
 * @param maxVersion     likewise, not below {@code minVersion}
 * @param cipherList     TLS 1.2 cipher list in OpenSSL syntax
 * @param cipherSuites   TLS 1.3 cipher suites in OpenSSL syntax
 * @param groups         key-exchange groups, e.g. {@code X25519:P-256}
 * @param sessionTimeout how long a session may be resumed
 */
public record TlsSettings(int minVersion, int maxVersion, String cipherList, String cipherSuites, String groups,
                          Duration sessionTimeout) {
    public TlsSettings {
        if (minVersion != TlsConstants.TLS1_2_VERSION && minVersion != TlsConstants.TLS1_3_VERSION)
            throw new IllegalArgumentException("only TLS 1.2 and TLS 1.3 are supported");
        if (maxVersion < minVersion || maxVersion > TlsConstants.TLS1_3_VERSION)
            throw new IllegalArgumentException("the maximum version must be between the minimum and TLS 1.3");
    }
}
