package io.actortls.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.actortls.proxy.IoLoop;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
import io.actortls.proxy.ProxyProtocolHeader;
import io.actortls.routing.Algorithm;
import io.actortls.routing.HealthCheckSettings;
import io.actortls.routing.PoolSpec;
import io.actortls.routing.ServerSpec;
import io.actortls.tls.TlsConstants;
import io.actortls.tls.TlsFrontend.UnknownServerName;
import io.actortls.tls.TlsSettings;
import io.actortls.tls.VirtualHostSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The node's configuration: {@code pekko.hocon} (documented defaults, with environment overrides) under an
 * optional file, validated completely before anything binds. Every problem becomes a
 * {@link ConfigurationException} naming the key.
 */
public record NodeConfig(List<Listener> listeners, TlsSettings tls, List<VirtualHost> vhosts, String defaultVhost,
                         UnknownServerName unknownSni, Map<String, Pool> pools, Cluster cluster, Sessions sessions,
                         Tickets tickets, Management management, Logging log, Shutdown shutdown,
                         List<String> ioDispatchers, Config pekko) {

    /**
     * @param preemptHandshakesAfter at max-connections with clients waiting, a connection still in its handshake
     *                               this long is closed to make room; zero: never
     * @param timeouts the node's timeouts with this listener's overrides
     */
    public record Listener(String key, String name, String host, int port, int maxConnections, int backlog,
                           Duration preemptHandshakesAfter, Timeouts timeouts) {}

    /**
     * @param pool      the pool its connections go to
     * @param clientIdle overrides the listener's, or null
     * @param lifetime   overrides the listener's, or null
     */
    public record VirtualHost(VirtualHostSpec spec, String pool, Duration clientIdle, Duration lifetime) {
        public String name() {
            return spec.name();
        }
    }

    /**
     * A backend pool: how servers are chosen (cluster-wide, by its entity), and how this node talks to them.
     *
     * @param proxyProtocol null: no PROXY header
     */
    public record Pool(PoolSpec routing, ProxyProtocolHeader.Version proxyProtocol, Duration backendIdle,
                       Duration backendConnect) {
        public String name() {
            return routing.name();
        }
    }

    /** Limits on one connection; {@code lifetime} and {@code tcpKeepalive} are zero when off. */
    public record Timeouts(Duration handshake, Duration clientIdle, Duration backendIdle, Duration backendConnect,
                           Duration lifetime, Duration tcpKeepalive) {}

    public record Logging(boolean json, String level, Duration statsInterval, int memoryLines) {}

    /** @param joinTimeout how long a node tries its seed nodes before it gives up and exits */
    public record Cluster(String host, int port, List<String> seedNodes, Duration joinTimeout) {}

    /** @param drainDeadline how long a stopping node waits for its open connections before closing them */
    public record Shutdown(Duration drainDeadline) {}

    public record Sessions(int buckets, int maxEntries, Duration fetchTimeout, Duration sweepInterval,
                           Duration statsInterval) {}

    public record Tickets(Duration rotationInterval) {}

    /** @param token empty: the management API refuses every authenticated call */
    public record Management(String host, int port, String token, Duration askTimeout, int callsPerSecond,
                             int failedLoginsPerMinute) {}

    /** The actor system's name: part of every cluster address, so the same on every node. */
    public static final String SYSTEM_NAME = "actortls";

    private static final String ROOT = "actortls";

    /** Time a stopping node gives the connections it closes at the drain deadline to say goodbye. */
    public static final Duration SHUTDOWN_CLOSE_MARGIN = Duration.ofSeconds(5);

    /** Loads the defaults, then {@code file} (may be null) on top. */
    public static NodeConfig load(Path file) {
        return load(file, List.of());
    }

    /** Loads the defaults, then {@code file} (may be null), then seed nodes given on the command line. */
    public static NodeConfig load(Path file, List<String> seedNodes) {
        Config defaults = ConfigFactory.parseResources(NodeConfig.class, "/pekko.hocon");
        Config user = ConfigFactory.empty();
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new ConfigurationException("--config", "file " + file + " does not exist");
            try {
                user = ConfigFactory.parseFile(file.toFile());
            } catch (ConfigException e) {
                throw new ConfigurationException(e.getMessage(), e);
            }
        }
        if (!seedNodes.isEmpty())
            user = ConfigFactory.parseMap(Map.of(ROOT + ".cluster.seed-nodes", seedNodes)).withFallback(user);
        return from(user, defaults);
    }

    static NodeConfig from(Config user, Config defaults) {
        Config all;
        try {
            // The libraries' reference.conf files, without system properties: the documented ways to configure a
            // node are pekko.hocon, the --config file and the environment variables named there.
            Config references = ConfigFactory.parseResources(NodeConfig.class.getClassLoader(), "reference.conf");
            all = user.withFallback(defaults).withFallback(references).resolve();
        } catch (ConfigException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
        try {
            return parse(all, defaults.resolve().getConfig(ROOT));
        } catch (ConfigException e) {
            throw new ConfigurationException(e.getMessage(), e);
        }
    }

    private static NodeConfig parse(Config all, Config reference) {
        Config c = all.getConfig(ROOT);
        rejectUnknownKeys(c, reference);

        Config globalTimeouts = c.getConfig("timeouts");
        rejectUnknown(globalTimeouts, reference.getConfig("timeouts"), Set.of(), ROOT + ".timeouts");
        Timeouts timeouts = timeouts(globalTimeouts, ConfigFactory.empty(), ROOT + ".timeouts");

        Config listenerDefaults = c.getConfig("listener-defaults");
        List<Listener> listeners = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> endpoints = new HashSet<>();
        List<? extends ConfigObject> listenerEntries = c.getObjectList("listeners");
        if (listenerEntries.isEmpty()) throw new ConfigurationException(ROOT + ".listeners", "no listener is defined");
        for (int i = 0; i < listenerEntries.size(); i++) {
            String key = ROOT + ".listeners[" + i + "]";
            Config entry = listenerEntries.get(i).toConfig();
            rejectUnknown(entry, listenerDefaults, Set.of("name", "port"), key);
            Config l = entry.withFallback(listenerDefaults);
            String name = l.hasPath("name") ? l.getString("name") : "listener-" + i;
            if (!names.add(name)) throw new ConfigurationException(key + ".name", "listener name " + name + " is used twice");
            if (!l.hasPath("port")) throw new ConfigurationException(key + ".port", "missing");
            int port = l.getInt("port");
            if (port < 1 || port > 65535) throw new ConfigurationException(key + ".port", port + " is not a TCP port (1-65535)");
            String host = l.getString("host");
            if (host.isBlank()) throw new ConfigurationException(key + ".host", "empty");
            if (!endpoints.add(host + ":" + port))
                throw new ConfigurationException(key + ".port", host + ":" + port + " is used by another listener");
            Config overrides = overrides(l, key, Set.of("handshake", "client-idle", "lifetime", "tcp-keepalive"));
            listeners.add(new Listener(key, name, host, port, positive(l, "max-connections", key),
                    positive(l, "backlog", key), nonNegative(l, "preempt-handshakes-after", key),
                    timeouts(globalTimeouts, overrides, key + ".timeouts")));
        }

        TlsSettings tls = tlsSettings(c.getConfig("tls"));

        Map<String, Pool> pools = new LinkedHashMap<>();
        Config poolDefaults = c.getConfig("pool-defaults");
        for (String name : c.getObject("pools").keySet()) {
            String key = ROOT + ".pools." + quoted(name);
            Config entry = c.getConfig("pools." + quoted(name));
            rejectUnknown(entry, poolDefaults, Set.of(), key);
            pools.put(name, pool(name, entry.withFallback(poolDefaults), reference.getConfig("pool-defaults"), key,
                    globalTimeouts, serversOf(entry.withFallback(poolDefaults), key + ".servers")));
        }

        Config vhostDefaults = c.getConfig("vhost-defaults");
        List<VirtualHost> vhosts = new ArrayList<>();
        Map<String, Object> seenNames = new LinkedHashMap<>();
        for (String name : c.getObject("vhosts").keySet()) {
            String key = ROOT + ".vhosts." + quoted(name);
            Config entry = c.getConfig("vhosts." + quoted(name));
            rejectUnknown(entry, vhostDefaults, Set.of("certificate", "key"), key);
            Config v = entry.withFallback(vhostDefaults);
            Path certificate = readableFile(v, "certificate", key);
            Path privateKey = readableFile(v, "key", key);
            VirtualHostSpec.Resumption resumption = switch (v.getString("resumption")) {
                case "stateful" -> VirtualHostSpec.Resumption.STATEFUL;
                case "tickets" -> VirtualHostSpec.Resumption.TICKETS;
                case "both" -> VirtualHostSpec.Resumption.BOTH;
                default -> throw new ConfigurationException(key + ".resumption",
                        "\"" + v.getString("resumption") + "\" is not stateful, tickets or both");
            };
            List<String> serverNames = v.getStringList("server-names");
            for (String serverName : serverNames) {
                Object previous = seenNames.put(serverName.toLowerCase(Locale.ROOT), name);
                if (previous != null)
                    throw new ConfigurationException(key + ".server-names", serverName + " is also listed by vhost " + previous);
            }
            List<String> alpn = v.getStringList("alpn");
            for (String protocol : alpn)
                if (protocol.isEmpty() || protocol.length() > 255)
                    throw new ConfigurationException(key + ".alpn", "\"" + protocol + "\" is not a valid ALPN protocol name");
            String pool = v.getString("pool");
            if (pool.isEmpty()) {
                // The vhost's own pool, from its backends list.
                if (pools.containsKey(name))
                    throw new ConfigurationException(key + ".pool", "empty, and pool " + name + " (this vhost's own pool) is also defined in actortls.pools: name it here");
                pools.put(name, pool(name, poolDefaults, reference.getConfig("pool-defaults"), key, globalTimeouts,
                        backends(v, key + ".backends")));
                pool = name;
            } else if (!pools.containsKey(pool)) {
                throw new ConfigurationException(key + ".pool", "names no entry of actortls.pools: " + pool);
            }
            Config overrides = overrides(v, key, Set.of("client-idle", "lifetime"));
            vhosts.add(new VirtualHost(new VirtualHostSpec(name, serverNames, certificate, privateKey, alpn, resumption),
                    pool, overrides.hasPath("client-idle") ? positiveDuration(overrides, "client-idle", key + ".timeouts") : null,
                    overrides.hasPath("lifetime") ? nonNegative(overrides, "lifetime", key + ".timeouts") : null));
        }
        if (vhosts.isEmpty()) throw new ConfigurationException(ROOT + ".vhosts", "no virtual host is defined");

        String defaultVhost = c.getString("default-vhost");
        if (defaultVhost.isEmpty()) {
            if (vhosts.size() != 1)
                throw new ConfigurationException(ROOT + ".default-vhost", "must name one of the vhosts when there are several");
            defaultVhost = vhosts.getFirst().name();
        } else if (vhosts.stream().noneMatch(v -> v.name().equals(c.getString("default-vhost")))) {
            throw new ConfigurationException(ROOT + ".default-vhost", "names no vhost: " + defaultVhost);
        }

        UnknownServerName unknownSni = switch (c.getString("unknown-sni")) {
            case "default" -> UnknownServerName.USE_DEFAULT;
            case "reject" -> UnknownServerName.REJECT;
            default -> throw new ConfigurationException(ROOT + ".unknown-sni",
                    "\"" + c.getString("unknown-sni") + "\" is neither \"default\" nor \"reject\"");
        };

        Cluster cluster = cluster(c.getConfig("cluster"));
        String format = c.getString("log.format");
        if (!format.equals("text") && !format.equals("json"))
            throw new ConfigurationException(ROOT + ".log.format", "\"" + format + "\" is neither \"text\" nor \"json\"");
        String level = c.getString("log.level").toUpperCase(Locale.ROOT);
        if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(level))
            throw new ConfigurationException(ROOT + ".log.level", "\"" + level + "\" is not a log level");
        Duration statsInterval = nonNegative(c, "log.stats-interval");
        int memoryLines = c.getInt("log.memory-lines");
        if (memoryLines < 1) throw new ConfigurationException(ROOT + ".log.memory-lines", "must be at least 1, is " + memoryLines);

        Shutdown shutdown = new Shutdown(positive(c, "shutdown.drain-deadline"));
        Map<String, Object> overlay = new LinkedHashMap<>();
        overlay.put("pekko.cluster.seed-nodes", cluster.seedNodes().stream().map(NodeConfig::clusterAddress).toList());
        // The first seed node starts the cluster itself when no other seed answers: only the others can fail to join.
        boolean firstSeed = !cluster.seedNodes().isEmpty()
                && cluster.seedNodes().getFirst().equals(cluster.host() + ":" + cluster.port());
        overlay.put("pekko.cluster.shutdown-after-unsuccessful-join-seed-nodes",
                firstSeed ? "off" : cluster.joinTimeout().toMillis() + "ms");
        // The drain task must be allowed to run to the deadline, plus the closes it then makes.
        overlay.put("pekko.coordinated-shutdown.phases.service-requests-done.timeout",
                shutdown.drainDeadline().plus(SHUTDOWN_CLOSE_MARGIN).toMillis() + "ms");
        List<String> ioDispatchers = ioDispatchers(c, overlay);
        Config pekkoOverlay = ConfigFactory.parseMap(overlay);
        return new NodeConfig(List.copyOf(listeners), tls, List.copyOf(vhosts), defaultVhost, unknownSni, Map.copyOf(pools),
                cluster, sessions(c), new Tickets(positive(c, "tickets.rotation-interval")), management(c.getConfig("management")),
                new Logging(format.equals("json"), level, statsInterval, memoryLines), shutdown, ioDispatchers,
                pekkoOverlay.withFallback(all));
    }

    /** One dispatcher per I/O thread, each run by its own {@link IoLoop}; their ids are returned. */
    private static List<String> ioDispatchers(Config c, Map<String, Object> overlay) {
        int threads = c.getInt("io-threads");
        if (threads < 0 || threads > 1024)
            throw new ConfigurationException(ROOT + ".io-threads", "must be 0 (one per core) to 1024, is " + threads);
        if (threads == 0) threads = Runtime.getRuntime().availableProcessors();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            String id = "actortls-io-" + i;
            overlay.put(id + ".type", "Dispatcher");
            overlay.put(id + ".executor", IoLoop.Configurator.class.getName());
            // Pekko would otherwise stop an idle loop after 1 s and start a new thread for the next connection.
            overlay.put(id + ".shutdown-timeout", "365d");
            ids.add(id);
        }
        // Every connection's lease passes the shard region and the shard of its pool entity: on the loop that also
        // runs the gateway and the entities (NodeGuardian), these hops hand nothing over to another thread.
        overlay.put("pekko.cluster.sharding.use-dispatcher", ids.get(0));
        return List.copyOf(ids);
    }

    /** The Artery address of the node at "host:port". */
    public static String clusterAddress(String hostAndPort) {
        return "pekko://" + SYSTEM_NAME + "@" + hostAndPort;
    }

    private static Cluster cluster(Config c) {
        String key = ROOT + ".cluster";
        String host = c.getString("host");
        if (host.isBlank()) throw new ConfigurationException(key + ".host", "empty");
        int port = c.getInt("port");
        if (port < 0 || port > 65535) throw new ConfigurationException(key + ".port", port + " is not a TCP port");
        List<String> seeds = c.getValue("seed-nodes").valueType() == ConfigValueType.STRING
                ? Arrays.stream(c.getString("seed-nodes").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
                : c.getStringList("seed-nodes");
        for (String seed : seeds)
            if (!seed.matches("[^:/@]+:[0-9]{1,5}"))
                throw new ConfigurationException(key + ".seed-nodes", "\"" + seed + "\" is not host:port");
        for (String store : List.of("key-store", "trust-store")) {
            String path = c.getString("tls." + store);
            String hint = " (`actortls demo` and `actortls local-cluster` make local ones in .actortls/cluster/)";
            if (path.isBlank()) throw new ConfigurationException(key + ".tls." + store, "not set" + hint);
            if (!Files.isRegularFile(Path.of(path)))
                throw new ConfigurationException(key + ".tls." + store, "file " + Path.of(path).toAbsolutePath() + " does not exist" + hint);
        }
        return new Cluster(host, port, List.copyOf(seeds), positiveDuration(c, "join-timeout", key));
    }

    private static Management management(Config m) {
        String key = ROOT + ".management";
        if (m.getString("host").isBlank()) throw new ConfigurationException(key + ".host", "empty");
        int port = m.getInt("port");
        if (port < 0 || port > 65535) throw new ConfigurationException(key + ".port", port + " is not a TCP port");
        String token = m.getString("token").strip();
        String tokenFile = m.getString("token-file");
        if (!tokenFile.isBlank()) {
            if (!token.isEmpty()) throw new ConfigurationException(key + ".token-file", "set together with token: choose one");
            try {
                token = Files.readString(Path.of(tokenFile)).strip();
            } catch (java.io.IOException e) {
                throw new ConfigurationException(key + ".token-file", "cannot read " + Path.of(tokenFile).toAbsolutePath() + ": " + e);
            }
            if (token.isEmpty()) throw new ConfigurationException(key + ".token-file", Path.of(tokenFile).toAbsolutePath() + " is empty");
        }
        if (!token.isEmpty() && token.length() < 16)
            throw new ConfigurationException(key + ".token", "shorter than 16 characters: too easy to guess");
        int callsPerSecond = m.getInt("calls-per-second");
        if (callsPerSecond < 1) throw new ConfigurationException(key + ".calls-per-second", "must be at least 1, is " + callsPerSecond);
        int failedLogins = m.getInt("failed-logins-per-minute");
        if (failedLogins < 1)
            throw new ConfigurationException(key + ".failed-logins-per-minute", "must be at least 1, is " + failedLogins);
        return new Management(m.getString("host"), port, token, positiveDuration(m, "ask-timeout", key), callsPerSecond,
                failedLogins);
    }

    private static Sessions sessions(Config c) {
        return new Sessions(positive(c.getConfig("sessions"), "buckets", ROOT + ".sessions"),
                positive(c.getConfig("sessions"), "max-entries", ROOT + ".sessions"),
                positive(c, "sessions.fetch-timeout"), positive(c, "sessions.sweep-interval"),
                nonNegative(c, "sessions.stats-interval"));
    }

    private static Duration nonNegative(Config c, String path) {
        return nonNegative(c, path, ROOT);
    }

    private static TlsSettings tlsSettings(Config t) {
        int min = version(t, "min-version");
        int max = version(t, "max-version");
        if (max < min) throw new ConfigurationException(ROOT + ".tls.max-version", "is below min-version");
        Duration sessionTimeout = t.getDuration("session-timeout");
        if (sessionTimeout.toSeconds() < 1) throw new ConfigurationException(ROOT + ".tls.session-timeout", "must be at least 1s");
        for (String key : List.of("ciphers", "ciphersuites", "groups"))
            if (t.getString(key).isBlank()) throw new ConfigurationException(ROOT + ".tls." + key, "empty");
        return new TlsSettings(min, max, t.getString("ciphers"), t.getString("ciphersuites"), t.getString("groups"),
                sessionTimeout);
    }

    private static int version(Config t, String key) {
        return switch (t.getString(key)) {
            case "TLSv1.2" -> TlsConstants.TLS1_2_VERSION;
            case "TLSv1.3" -> TlsConstants.TLS1_3_VERSION;
            default -> throw new ConfigurationException(ROOT + ".tls." + key,
                    "\"" + t.getString(key) + "\" is not supported (TLSv1.2 or TLSv1.3; TLS 1.0 and 1.1 are refused)");
        };
    }

    /** A vhost's {@code backends}: "host:port" entries (or one comma-separated string from the environment). */
    private static List<ServerSpec> backends(Config v, String key) {
        List<String> entries = v.getValue("backends").valueType() == ConfigValueType.STRING
                ? Arrays.stream(v.getString("backends").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
                : v.getStringList("backends");
        if (entries.isEmpty()) throw new ConfigurationException(key, "no backend is listed, and the vhost names no pool");
        List<ServerSpec> servers = new ArrayList<>();
        for (String entry : entries) servers.add(server(entry, entry, 1, 0, key));
        return unique(servers, key);
    }

    /** A pool's {@code servers}: "host:port" strings or {name, address, weight, max-connections} objects. */
    private static List<ServerSpec> serversOf(Config pool, String key) {
        List<ServerSpec> servers = new ArrayList<>();
        var list = pool.getList("servers");
        if (list.isEmpty()) throw new ConfigurationException(key, "no server is listed");
        for (int i = 0; i < list.size(); i++) {
            String itemKey = key + "[" + i + "]";
            var item = list.get(i);
            if (item.valueType() == ConfigValueType.STRING) {
                String address = (String) item.unwrapped();
                servers.add(server(address, address, 1, 0, itemKey));
            } else if (item.valueType() == ConfigValueType.OBJECT) {
                Config s = ((ConfigObject) item).toConfig();
                for (String field : s.root().keySet())
                    if (!Set.of("name", "address", "weight", "max-connections").contains(field))
                        throw new ConfigurationException(itemKey + "." + field, "unknown key (name, address, weight, max-connections)");
                if (!s.hasPath("address")) throw new ConfigurationException(itemKey + ".address", "missing");
                String address = s.getString("address");
                int weight = s.hasPath("weight") ? s.getInt("weight") : 1;
                if (weight < 1 || weight > 1000) throw new ConfigurationException(itemKey + ".weight", "must be 1-1000, not " + weight);
                int max = s.hasPath("max-connections") ? s.getInt("max-connections") : 0;
                if (max < 0) throw new ConfigurationException(itemKey + ".max-connections", "negative");
                servers.add(server(s.hasPath("name") ? s.getString("name") : address, address, weight, max, itemKey));
            } else {
                throw new ConfigurationException(itemKey, "is neither \"host:port\" nor {name, address, weight, max-connections}");
            }
        }
        return unique(servers, key);
    }

    private static ServerSpec server(String name, String address, int weight, int maxConnections, String key) {
        int colon = address.lastIndexOf(':');
        int port = -1;
        try {
            if (colon > 0) port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException ignored) {
            // reported below
        }
        if (colon <= 0 || port < 1 || port > 65535) throw new ConfigurationException(key, "\"" + address + "\" is not host:port");
        if (name.isBlank()) throw new ConfigurationException(key + ".name", "empty");
        return new ServerSpec(name, address.substring(0, colon), port, weight, maxConnections);
    }

    private static List<ServerSpec> unique(List<ServerSpec> servers, String key) {
        Set<String> names = new HashSet<>();
        for (ServerSpec s : servers)
            if (!names.add(s.name())) throw new ConfigurationException(key, "server " + s.name() + " is listed twice");
        return List.copyOf(servers);
    }

    private static Pool pool(String name, Config p, Config reference, String key, Config globalTimeouts,
                             List<ServerSpec> servers) {
        rejectUnknown(p.getConfig("queue"), reference.getConfig("queue"), Set.of(), key + ".queue");
        rejectUnknown(p.getConfig("health"), reference.getConfig("health"), Set.of(), key + ".health");
        Algorithm algorithm = Algorithm.fromLabel(p.getString("algorithm")).orElseThrow(() -> new ConfigurationException(
                key + ".algorithm", "\"" + p.getString("algorithm") + "\" is not roundrobin, leastconn or source"));
        ProxyProtocolHeader.Version proxy = switch (p.getString("proxy-protocol")) {
            case "none" -> null;
            case "v1" -> ProxyProtocolHeader.Version.V1;
            case "v2" -> ProxyProtocolHeader.Version.V2;
            default -> throw new ConfigurationException(key + ".proxy-protocol",
                    "\"" + p.getString("proxy-protocol") + "\" is not none, v1 or v2");
        };
        Config h = p.getConfig("health");
        HealthCheckSettings.Kind kind = switch (h.getString("check")) {
            case "none" -> HealthCheckSettings.Kind.NONE;
            case "tcp" -> HealthCheckSettings.Kind.TCP;
            case "http" -> HealthCheckSettings.Kind.HTTP;
            default -> throw new ConfigurationException(key + ".health.check", "\"" + h.getString("check") + "\" is not none, tcp or http");
        };
        int expectStatus = h.getInt("expect-status");
        if (expectStatus < 100 || expectStatus > 599)
            throw new ConfigurationException(key + ".health.expect-status", expectStatus + " is not an HTTP status");
        if (!h.getString("http-path").startsWith("/"))
            throw new ConfigurationException(key + ".health.http-path", "must start with /");
        HealthCheckSettings health = new HealthCheckSettings(kind, positiveDuration(h, "interval", key + ".health"),
                positiveDuration(h, "timeout", key + ".health"), positive(h, "rise", key + ".health"),
                positive(h, "fall", key + ".health"), h.getString("http-path"), h.getString("http-host").isEmpty() ? null : h.getString("http-host"), expectStatus);
        int passiveFailures = h.getInt("passive-failures");
        if (passiveFailures < 0) throw new ConfigurationException(key + ".health.passive-failures", "negative");
        boolean clusterWide = switch (p.getString("scope")) {
            case "cluster" -> true;
            case "node" -> false;
            default -> throw new ConfigurationException(key + ".scope", "\"" + p.getString("scope") + "\" is neither cluster nor node");
        };
        PoolSpec routing = new PoolSpec(name, servers, algorithm, clusterWide, nonNegative(p, "slow-start", key),
                positiveDuration(p, "pick-timeout", key), positive(p.getConfig("queue"), "max-waiting", key + ".queue"),
                positiveDuration(p, "queue.timeout", key), nonNegative(p, "drain-deadline", key), health,
                passiveFailures, positiveDuration(h, "passive-retry", key + ".health"));
        Config overrides = overrides(p, key, Set.of("backend-idle", "backend-connect"));
        Timeouts t = timeouts(globalTimeouts, overrides, key + ".timeouts");
        return new Pool(routing, proxy, t.backendIdle(), t.backendConnect());
    }

    /** An entry's {@code timeouts} block, checked against the keys that level may override. */
    private static Config overrides(Config entry, String key, Set<String> allowed) {
        if (!entry.hasPath("timeouts")) return ConfigFactory.empty();
        Config t = entry.getConfig("timeouts");
        for (String name : t.root().keySet())
            if (!allowed.contains(name))
                throw new ConfigurationException(key + ".timeouts." + name, "cannot be set here (only " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
        return t;
    }

    private static Timeouts timeouts(Config global, Config overrides, String key) {
        Config t = overrides.withFallback(global);
        return new Timeouts(positiveDuration(t, "handshake", key), positiveDuration(t, "client-idle", key),
                positiveDuration(t, "backend-idle", key), positiveDuration(t, "backend-connect", key),
                nonNegative(t, "lifetime", key), nonNegative(t, "tcp-keepalive", key));
    }

    private static Duration positiveDuration(Config c, String path, String key) {
        Duration value = c.getDuration(path);
        if (value.isZero() || value.isNegative()) throw new ConfigurationException(key + "." + path, "must be positive");
        return value;
    }

    private static Duration nonNegative(Config c, String path, String key) {
        Duration value = c.getDuration(path);
        if (value.isNegative()) throw new ConfigurationException(key + "." + path, "negative");
        return value;
    }

    private static Path readableFile(Config v, String name, String key) {
        if (!v.hasPath(name)) throw new ConfigurationException(key + "." + name, "missing");
        Path path = Path.of(v.getString(name)).toAbsolutePath();
        if (!Files.isRegularFile(path)) throw new ConfigurationException(key + "." + name, "file " + path + " does not exist");
        if (!Files.isReadable(path)) throw new ConfigurationException(key + "." + name, "file " + path + " is not readable");
        return path;
    }

    private static int positive(Config c, String name, String key) {
        int value = c.getInt(name);
        if (value < 1) throw new ConfigurationException(key + "." + name, "must be at least 1, not " + value);
        return value;
    }

    private static Duration positive(Config c, String path) {
        return positiveDuration(c, path, ROOT);
    }

    /** Top-level keys, and keys of the fixed sections, must all be documented in pekko.hocon. */
    private static void rejectUnknownKeys(Config c, Config reference) {
        for (String key : c.root().keySet()) {
            if (!reference.root().containsKey(key))
                throw new ConfigurationException(ROOT + "." + key, "unknown key (see pekko.hocon for the documented keys)");
        }
        for (String section : List.of("tls", "log", "listener-defaults", "vhost-defaults", "pool-defaults", "cluster",
                "cluster.tls", "sessions", "tickets", "management", "shutdown"))
            rejectUnknown(c.getConfig(section), reference.getConfig(section), Set.of(), ROOT + "." + section);
    }

    private static void rejectUnknown(Config entry, Config allowed, Set<String> alsoAllowed, String key) {
        for (String name : entry.root().keySet()) {
            if (!allowed.root().containsKey(name) && !alsoAllowed.contains(name))
                throw new ConfigurationException(key + "." + name, "unknown key (see pekko.hocon for the documented keys)");
        }
    }

    private static String quoted(String name) {
        return name.matches("[A-Za-z0-9_-]+") ? name : "\"" + name.replace("\"", "\\\"") + "\"";
    }
}
