package io.actortls.node;

import ch.qos.logback.classic.Level;
import io.actortls.demo.Demo;
import io.actortls.demo.DemoBackend;
import io.actortls.tls.OpenSsl;
import io.actortls.tls.TlsFrontend;
import io.actortls.tls.TlsSetupException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the {@code actortls} launcher. Exit codes: 0 after a clean stop, 2 for invalid configuration or
 * usage (before anything binds), 1 for anything else.
 */
public final class Main {
    private Main() {}

    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    private static final String USAGE = """
            usage: actortls node [--config FILE]           run a node (defaults: pekko.hocon; environment overrides)
                   actortls demo [--backend HOST:PORT]     run a node with demo certificates and a demo backend
                   actortls demo-backend --port N [--name NAME]   run the demo HTTP backend
                   actortls test                           run the test suite (the launcher script handles this)""";

    public static void main(String[] args) {
        if (args.length == 0) usage("no command given");
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status = switch (args[0]) {
            case "node" -> runNode(configArgument(rest));
            case "demo" -> Demo.run(rest);
            case "demo-backend" -> DemoBackend.run(rest);
            case "-h", "--help", "help" -> {
                System.out.println(USAGE);
                yield 0;
            }
            default -> usage("unknown command: " + args[0]);
        };
        System.exit(status);
    }

    /** Starts a node and blocks until it stops. */
    public static int runNode(Path configFile) {
        NodeConfig config;
        try {
            config = NodeConfig.load(configFile);
        } catch (ConfigurationException e) {
            return configurationError(e.getMessage());
        }
        configureLogging(config.log());
        Logger log = LoggerFactory.getLogger(Main.class);

        TlsFrontend tls;
        try {
            tls = new TlsFrontend(config.tls(), config.vhosts().stream().map(NodeConfig.VirtualHost::spec).toList(),
                    config.defaultVhost(), config.unknownSni());
        } catch (TlsSetupException e) {
            return configurationError(keyOf(e, config) + ": " + e.getMessage());
        }
        log.info("{} loaded {} virtual host(s): {}", OpenSsl.version(), config.vhosts().size(),
                config.vhosts().stream().map(v -> v.name() + " " + v.spec().serverNames()).toList());

        CompletableFuture<Void> started = new CompletableFuture<>();
        ActorSystem<ActorTlsNode.Command> system =
                ActorSystem.create(ActorTlsNode.create(config, tls, started), "actortls", config.pekko());
        try {
            started.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            system.terminate();
            awaitTermination(system);
            tls.close();
            if (e.getCause() instanceof ActorTlsNode.BindException bind) return configurationError(bind.getMessage());
            log.error("node failed to start", e.getCause());
            return EXIT_FAILURE;
        } catch (TimeoutException | InterruptedException e) {
            log.error("node did not start within 60 s");
            system.terminate();
            return EXIT_FAILURE;
        }
        awaitTermination(system);
        tls.close();
        return 0;
    }

    private static void awaitTermination(ActorSystem<?> system) {
        system.getWhenTerminated().toCompletableFuture().join();
    }

    private static String keyOf(TlsSetupException e, NodeConfig config) {
        String vhost = "actortls.vhosts." + e.virtualHost();
        return switch (e.part()) {
            case VERSIONS -> "actortls.tls.min-version";
            case CIPHERS -> "actortls.tls.ciphers";
            case CIPHERSUITES -> "actortls.tls.ciphersuites";
            case GROUPS -> "actortls.tls.groups";
            case DEFAULT_VHOST -> "actortls.default-vhost";
            case SERVER_NAMES -> vhost + ".server-names";
            case CERTIFICATE -> vhost + ".certificate";
            case PRIVATE_KEY, KEY_MISMATCH -> vhost + ".key";
        };
    }

    /** Selects text or JSON logging before the first logger exists, then sets the root level. */
    static void configureLogging(NodeConfig.Logging logging) {
        if (logging.json()) System.setProperty("logback.configurationFile", "logback-json.xml");
        var root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(logging.level()));
    }

    private static Path configArgument(String[] args) {
        Path file = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) file = Path.of(args[++i]);
            else usage("unknown argument for node: " + args[i]);
        }
        return file;
    }

    static int configurationError(String message) {
        System.err.println("actortls: configuration error: " + message);
        return EXIT_USAGE;
    }

    public static int usage(String problem) {
        System.err.println("actortls: " + problem);
        System.err.println(USAGE);
        System.exit(EXIT_USAGE);
        return EXIT_USAGE;
    }
}
