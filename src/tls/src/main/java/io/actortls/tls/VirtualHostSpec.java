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
 */
public record VirtualHostSpec(String name, List<String> serverNames, Path certificateChain, Path privateKey,
                              List<String> alpn) {
    public VirtualHostSpec {
        serverNames = List.copyOf(serverNames);
        alpn = List.copyOf(alpn);
    }
}
