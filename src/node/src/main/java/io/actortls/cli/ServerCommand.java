package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code actortls server add|remove|weight|drain|enable|disable POOL NAME ...}: runtime changes to a pool's
 * servers, made by the pool's entity for the whole cluster. Servers are named within their pool.
 */
@Command(name = "server", description = "Change a pool's servers (applies to every node).")
final class ServerCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "add", description = "Add a server to a pool.")
    int add(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name,
            @Parameters(paramLabel = "HOST:PORT", converter = Arguments.HostPort.class) String address,
            @Option(names = "--weight", paramLabel = "W", defaultValue = "1", converter = Arguments.Weight.class,
                    description = "1-1000 (default 1)") int weight,
            @Option(names = "--max-connections", paramLabel = "M", defaultValue = "0", converter = Arguments.NotNegative.class,
                    description = "open connections across the cluster; 0: no limit (default)") int maxConnections) {
        return done(root.client().post(servers(pool), "name", name, "address", address, "weight",
                Integer.toString(weight), "max-connections", Integer.toString(maxConnections)));
    }

    @Command(name = "remove", description = "Remove a server from a pool (its open connections stay until they end).")
    int remove(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name) {
        return done(root.client().delete(server(pool, name)));
    }

    @Command(name = "weight", description = "Set a server's weight (1-1000).")
    int weight(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name,
               @Parameters(paramLabel = "W", converter = Arguments.Weight.class) int weight) {
        return done(root.client().put(server(pool, name) + "/weight", "value", Integer.toString(weight)));
    }

    @Command(name = "drain", description = "No new connections to the server; open ones stay (until the pool's drain deadline).")
    int drain(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name) {
        return done(root.client().post(server(pool, name) + "/drain"));
    }

    @Command(name = "enable", description = "Let the server take new connections again.")
    int enable(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name) {
        return done(root.client().post(server(pool, name) + "/enable"));
    }

    @Command(name = "disable", description = "No new connections to the server, and its open ones are closed now.")
    int disable(@Parameters(paramLabel = "POOL") String pool, @Parameters(paramLabel = "NAME") String name) {
        return done(root.client().post(server(pool, name) + "/disable"));
    }

    private int done(JsonNode answer) {
        if (root.json()) root.output().json(answer);
        else root.output().line(Output.text(answer, "message"));
        return 0;
    }

    private static String servers(String pool) {
        return "/pools/" + ManagementClient.segment(pool) + "/servers";
    }

    private static String server(String pool, String name) {
        return servers(pool) + "/" + ManagementClient.segment(name);
    }
}
