package io.actortls.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValueType;
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
                         UnknownServerName unknownSni, Timeouts timeouts, Cluster cluster, Sessions sessions,
                         Tickets tickets, Logging log, Config pekko) {

    public record Listener(String key, String name, String host, int port, int maxConnections, int backlog) {}

    public record Backend(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    public record VirtualHost(VirtualHostSpec spec, List<Backend> backends) {
        public String name() {
            return spec.name();
        }
    }

    public record Timeouts(Duration handshake, Duration idle, Duration backendConnect) {}

    public record Logging(boolean json, String level, Duration statsInterval) {}

    public record Cluster(String host, int port, List<String> seedNodes) {}

    public record Sessions(int buckets, int maxEntries, Duration fetchTimeout, Duration sweepInterval,
                           Duration statsInterval) {}

    public record Tickets(Duration rotationInterval) {}

    /** The actor system's name: part of every cluster address, so the same on every node. */
    public static final String SYSTEM_NAME = "actortls";

    private static final String ROOT = "actortls";

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
            listeners.add(new Listener(key, name, host, port,
                    positive(l, "max-connections", key), positive(l, "backlog", key)));
        }

        TlsSettings tls = tlsSettings(c.getConfig("tls"));

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
            List<Backend> backends = backends(v, key + ".backends");
            vhosts.add(new VirtualHost(new VirtualHostSpec(name, serverNames, certificate, privateKey, alpn, resumption),
                    backends));
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

        Timeouts timeouts = new Timeouts(positive(c, "timeouts.handshake"), positive(c, "timeouts.idle"),
                positive(c, "timeouts.backend-connect"));

        Cluster cluster = cluster(c.getConfig("cluster"));
        String format = c.getString("log.format");
        if (!format.equals("text") && !format.equals("json"))
            throw new ConfigurationException(ROOT + ".log.format", "\"" + format + "\" is neither \"text\" nor \"json\"");
        String level = c.getString("log.level").toUpperCase(Locale.ROOT);
        if (!List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(level))
            throw new ConfigurationException(ROOT + ".log.level", "\"" + level + "\" is not a log level");
        Duration statsInterval = nonNegative(c, "log.stats-interval");

        Config pekkoOverlay = ConfigFactory.parseMap(Map.of("pekko.cluster.seed-nodes",
                cluster.seedNodes().stream().map(NodeConfig::clusterAddress).toList()));
        return new NodeConfig(List.copyOf(listeners), tls, List.copyOf(vhosts), defaultVhost, unknownSni, timeouts,
                cluster, sessions(c), new Tickets(positive(c, "tickets.rotation-interval")),
                new Logging(format.equals("json"), level, statsInterval), pekkoOverlay.withFallback(all));
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
        return new Cluster(host, port, List.copyOf(seeds));
    }

    private static Sessions sessions(Config c) {
        return new Sessions(positive(c.getConfig("sessions"), "buckets", ROOT + ".sessions"),
                positive(c.getConfig("sessions"), "max-entries", ROOT + ".sessions"),
                positive(c, "sessions.fetch-timeout"), positive(c, "sessions.sweep-interval"),
                nonNegative(c, "sessions.stats-interval"));
    }

    private static Duration nonNegative(Config c, String path) {
        Duration value = c.getDuration(path);
        if (value.isNegative()) throw new ConfigurationException(ROOT + "." + path, "negative");
        return value;
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

    private static List<Backend> backends(Config v, String key) {
        List<String> entries = v.getValue("backends").valueType() == ConfigValueType.STRING
                ? Arrays.stream(v.getString("backends").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
                : v.getStringList("backends");
        if (entries.isEmpty()) throw new ConfigurationException(key, "no backend is listed");
        List<Backend> backends = new ArrayList<>();
        for (String entry : entries) {
            int colon = entry.lastIndexOf(':');
            int port = -1;
            try {
                if (colon > 0) port = Integer.parseInt(entry.substring(colon + 1));
            } catch (NumberFormatException ignored) {
                // reported below
            }
            if (colon <= 0 || port < 1 || port > 65535)
                throw new ConfigurationException(key, "\"" + entry + "\" is not host:port");
            backends.add(new Backend(entry.substring(0, colon), port));
        }
        return List.copyOf(backends);
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
        Duration value = c.getDuration(path);
        if (value.isZero() || value.isNegative()) throw new ConfigurationException(ROOT + "." + path, "must be positive");
        return value;
    }

    /** Top-level keys, and keys of the fixed sections, must all be documented in pekko.hocon. */
    private static void rejectUnknownKeys(Config c, Config reference) {
        for (String key : c.root().keySet()) {
            if (!reference.root().containsKey(key))
                throw new ConfigurationException(ROOT + "." + key, "unknown key (see pekko.hocon for the documented keys)");
        }
        for (String section : List.of("tls", "timeouts", "log", "listener-defaults", "vhost-defaults", "cluster",
                "cluster.tls", "sessions", "tickets"))
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
