package io.actortls.testkit;

import java.util.ArrayList;
import java.util.List;

/** Builds node configuration text for tests, in the documented pekko.hocon keys. */
public final class Hocon {
    private final int port;
    private final List<String> vhosts = new ArrayList<>();
    private final List<String> extra = new ArrayList<>();
    private String defaultVhost = "";

    public Hocon(int port) {
        this.port = port;
    }

    public Hocon vhost(String name, TestPki.Cert cert, List<String> serverNames, List<String> alpn, String... backends) {
        vhosts.add("""
                "%s" {
                  server-names = %s
                  certificate = "%s"
                  key = "%s"
                  alpn = %s
                  backends = %s
                }
                """.formatted(name, list(serverNames), cert.certificate(), cert.key(), list(alpn), list(List.of(backends))));
        return this;
    }

    public Hocon defaultVhost(String name) {
        this.defaultVhost = name;
        return this;
    }

    /** Any further HOCON lines inside {@code actortls { }}, e.g. {@code timeouts.handshake = 2s}. */
    public Hocon with(String line) {
        extra.add(line);
        return this;
    }

    public String render() {
        return """
                actortls {
                  listeners = [ { name = "test", port = %d } ]
                  default-vhost = "%s"
                  vhosts {
                %s
                  }
                %s
                }
                """.formatted(port, defaultVhost, String.join("\n", vhosts), String.join("\n", extra));
    }

    private static String list(List<String> items) {
        return items.stream().map(s -> "\"" + s + "\"").toList().toString();
    }
}
