package io.actortls.node;

import ch.qos.logback.classic.Level;
import io.actortls.cli.ActorTlsCli;
import io.actortls.demo.Demo;
import io.actortls.demo.ClusterCertificates;
import io.actortls.demo.DemoBackend;
import io.actortls.demo.LocalCluster;
import io.actortls.tls.OpenSsl;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the {@code actortls} launcher: the commands that run nodes are here, every other one is a
 * management command of {@link ActorTlsCli}. Exit codes: 0 after a clean stop, 2 for invalid configuration or
 * usage (before anything binds), 1 for anything else.
 */
public final class Main {
    private Main() {}

    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    private static final String USAGE = """
            usage: actortls node [--config FILE] [--seed HOST:PORT]...   run a node (defaults: pekko.hocon)
                   actortls local-cluster [--nodes N] [--algorithm roundrobin|leastconn|source]
                                                          run N nodes as processes on 127.0.0.1 with 3 demo backends
                   actortls demo [--backend HOST:PORT]     run a node with demo certificates and a demo backend
                   actortls demo-backend --port N [--name NAME] [--accept-proxy] [--host ADDR]   run the demo HTTP backend
                   actortls cluster-certs [--dir DIR] [--nodes N]  make a cluster CA and N node key stores in DIR/cluster
                   actortls test                           run the test suite (the launcher script handles this)
                   actortls <management command>           e.g. cluster show, pools list, connect HOST:PORT;
                                                           `actortls --help` lists them""";

    public static void main(String[] args) {
        if (args.length == 0) usage("no command given");
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        int status = switch (args[0]) {
            // `actortls node drain` is a management command; `actortls node [--config FILE]` runs a node.
            case "node" -> rest.length > 0 && !rest[0].startsWith("-") ? ActorTlsCli.run(args) : runNodeCommand(rest);
            case "demo" -> Demo.run(rest);
            case "demo-backend" -> DemoBackend.run(rest);
            case "local-cluster" -> LocalCluster.run(rest);
            case "cluster-certs" -> ClusterCertificates.run(rest);
            case "help-node" -> {
                System.out.println(USAGE);
                yield 0;
            }
            default -> ActorTlsCli.run(args);
        };
        System.exit(status);
    }

    /** Starts a node and blocks until it stops. */
    public static int runNode(Path configFile, List<String> seedNodes) {
        NodeConfig config;
        try {
            config = NodeConfig.load(configFile, seedNodes);
        } catch (ConfigurationException e) {
            return configurationError(e.getMessage());
        }
        configureLogging(config.log());
        Logger log = LoggerFactory.getLogger(Main.class);
        log.info("{}; {} virtual host(s): {}", OpenSsl.version(), config.vhosts().size(),
                config.vhosts().stream().map(v -> v.name() + " " + v.spec().serverNames()).toList());
        RunningNode node;
        try {
            node = RunningNode.start(config);
        } catch (ConfigurationException | NodeGuardian.BindException e) {
            return configurationError(e.getMessage());
        } catch (RunningNode.StoppedWhileStarting e) {
            if (joinFailed(e.reason())) return joinFailure(config);
            log.error("node failed to start: {}", e.getMessage());
            return EXIT_FAILURE;
        } catch (IllegalStateException e) {
            log.error("node failed to start: {}", e.getMessage(), e.getCause());
            return EXIT_FAILURE;
        }
        // Our own handlers in place of the JVM's: its shutdown hook would also drain, but the process would then
        // exit with 143 instead of 0 after a clean stop.
        for (String signal : List.of("TERM", "INT"))
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> node.drain(NodeStopReason.SIGNAL));
        var reason = node.awaitTermination();
        if (joinFailed(reason)) return joinFailure(config);
        if (reason.equals(Optional.of(CoordinatedShutdown.clusterDowningReason()))) {
            // Downed by the split-brain resolver (this node was on the minority side of a partition) or by an
            // operator: it has left the cluster for good. Not 0, so that a supervisor starts it again and the new
            // incarnation joins through the seed nodes.
            log.error("node stopped: the cluster downed this node (split-brain resolver or `actortls cluster down`); "
                    + "start it again to rejoin");
            return EXIT_FAILURE;
        }
        log.info("node stopped ({})", reason.map(Object::toString).orElse("actor system terminated"));
        return 0;
    }

    private static boolean joinFailed(Optional<CoordinatedShutdown.Reason> reason) {
        return reason.equals(Optional.of(CoordinatedShutdown.clusterJoinUnsuccessfulReason()));
    }

    private static int joinFailure(NodeConfig config) {
        System.err.println("actortls: could not join the cluster through " + String.join(", ", config.cluster().seedNodes())
                + " within " + config.cluster().joinTimeout().toSeconds() + "s; is a seed node running?");
        return EXIT_FAILURE;
    }

    /** Selects text or JSON logging before the first logger exists, then sets the root level. */
    static void configureLogging(NodeConfig.Logging logging) {
        if (logging.json()) System.setProperty("logback.configurationFile", "logback-json.xml");
        var root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(logging.level()));
    }

    private static int runNodeCommand(String[] args) {
        Path file = null;
        List<String> seeds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            boolean valued = args[i].equals("--config") || args[i].equals("--seed");
            if (valued && i + 1 == args.length) return usage(args[i] + " needs a value");
            if (args[i].equals("--config")) file = Path.of(args[++i]);
            else if (args[i].equals("--seed")) seeds.add(args[++i]);
            else return usage("unknown argument for node: " + args[i]);
        }
        return runNode(file, seeds);
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
