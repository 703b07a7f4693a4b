package io.actortls.tls;

import java.nio.file.Path;
import java.util.List;

/**
 * What a virtual host needs from OpenSSL.
 *
 * @param name        unique name, also mixed into the session ID context so sessions never cross vhosts
 * @param serverNames exact names or one-label wildcards ({@code *.example.com})
 * @param certificateChain PEM file: the leaf certificate first, then intermediates
 * @param privateKey  PEM file with the leaf's private key
 * @param alpn        protocols in server preference order; empty means ALPN is not negotiated
 * @param resumption  which kinds of session resumption this vhost offers
 */
public record VirtualHostSpec(String name, List<String> serverNames, Path certificateChain, Path privateKey,
                              List<String> alpn, Resumption resumption) {
    /** How sessions resume. The session cache and ticket keys are the {@link TlsFrontend}'s. */
    public enum Resumption {
        /** TLS 1.2 session IDs and TLS 1.3 stateful tickets, both looked up in the {@link SessionStore}. */
        STATEFUL,
        /** Stateless tickets (TLS 1.2 and 1.3) encrypted with the {@link TicketKeyRing}; no session cache. */
        TICKETS,
        /** TLS 1.2: session IDs and tickets; TLS 1.3: stateless tickets. Resumes the most clients. */
        BOTH
    }

    public VirtualHostSpec {
        serverNames = List.copyOf(serverNames);
        alpn = List.copyOf(alpn);
    }

    /** A vhost offering every kind of resumption. */
    public VirtualHostSpec(String name, List<String> serverNames, Path certificateChain, Path privateKey, List<String> alpn) {
        this(name, serverNames, certificateChain, privateKey, alpn, Resumption.BOTH);
    }
}
