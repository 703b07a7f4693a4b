package io.actortls.testkit;

import java.util.ArrayList;
import io.actortls.demo.ClusterCertificates;
import java.util.List;
import java.util.stream.Collectors;

/** Builds node configuration text for tests, in the documented pekko.hocon keys. */
public final class Hocon {
    private final int port;
    private final List<String> vhosts = new ArrayList<>();
    private final List<String> extra = new ArrayList<>();
    private final List<String> pools = new ArrayList<>();
    private final List<String> listeners = new ArrayList<>();
    private String defaultVhost = "";
    private int clusterPort = Tools.freePort();
    private final int managementPort = Tools.freePort();
    private List<String> seeds = List.of();
    private ClusterCertificates.NodeStores stores = ClusterPki.stores(1);

    /** The management token of every test node. */
    public static final String MANAGEMENT_TOKEN = "test-management-token-0123456789";

    public Hocon(int port) {
        this.port = port;
    }

    /** Cluster settings: this node's cluster port, the seeds it joins through, and its key and trust stores. */
    public Hocon cluster(int clusterPort, List<String> seeds, ClusterCertificates.NodeStores stores) {
        this.clusterPort = clusterPort;
        this.seeds = List.copyOf(seeds);
        this.stores = stores;
        return this;
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

    /**
     * A vhost whose connections go to the pool {@code pool} (defined with {@link #pool}); {@code settings} any
     * further keys of vhost-defaults, e.g. {@code alpn = ["http/1.1"]} or {@code timeouts { lifetime = 3s }}.
     */
    public Hocon pooledVhost(String name, TestPki.Cert cert, List<String> serverNames, String pool, String... settings) {
        vhosts.add("""
                "%s" {
                  server-names = %s
                  certificate = "%s"
                  key = "%s"
                  pool = "%s"
                  %s
                }
                """.formatted(name, list(serverNames), cert.certificate(), cert.key(), pool, String.join("\n  ", settings)));
        return this;
    }

    /**
     * A pool: {@code servers} are HOCON entries (e.g. {@link DemoBackendProcess#server}), {@code settings} any
     * further keys of pool-defaults, e.g. {@code algorithm = "leastconn"}.
     */
    public Hocon pool(String name, List<String> servers, String... settings) {
        pools.add("""
                "%s" {
                  servers = [ %s ]
                  %s
                }
                """.formatted(name, String.join(", ", servers), String.join("\n  ", settings)));
        return this;
    }

    /**
     * A listener besides the first ("test" on the constructor's port); {@code settings} any further keys of
     * listener-defaults, e.g. {@code timeouts { tcp-keepalive = 7s }}.
     */
    public Hocon listener(String name, int port, String... settings) {
        listeners.add("{ name = \"%s\", port = %d\n %s }".formatted(name, port, String.join("\n ", settings)));
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

    /** The node's management API as host:port. */
    public String management() {
        return "127.0.0.1:" + managementPort;
    }

    public String render() {
        String moreListeners = listeners.stream().map(l -> ", " + l).collect(Collectors.joining());
        return """
                actortls {
                  listeners = [ { name = "test", port = %d }%s ]
                  default-vhost = "%s"
                  cluster {
                    port = %d
                    seed-nodes = %s
                    tls {
                      key-store = "%s"
                      key-store-password = "%s"
                      trust-store = "%s"
                      trust-store-password = "%s"
                    }
                  }
                  management {
                    port = %d
                    token = "%s"
                  }
                  vhosts {
                %s
                  }
                  pools {
                %s
                  }
                  # A test that stops a node with connections still open should not wait the production deadline.
                  shutdown.drain-deadline = 5s
                %s
                }
                """.formatted(port, moreListeners, defaultVhost, clusterPort, list(seeds), stores.keyStore(), stores.password(),
                stores.trustStore(), stores.password(), managementPort, MANAGEMENT_TOKEN, String.join("\n", vhosts), String.join("\n", pools),
                String.join("\n", extra));
    }

    private static String list(List<String> items) {
        return items.stream().map(s -> "\"" + s + "\"").toList().toString();
    }
}
