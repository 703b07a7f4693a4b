package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code actortls node drain [HOST:PORT]}: stop a node gracefully. ({@code actortls node --config} runs one.) */
@Command(name = "node", description = "A node's lifecycle.")
final class NodeCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "drain", description = {"Stop a node gracefully, as SIGTERM does: it refuses new connections, lets",
            "open ones finish up to actortls.shutdown.drain-deadline, hands its pools over, leaves the cluster and exits."})
    int drain(@Parameters(paramLabel = "HOST:PORT", arity = "0..1",
            description = "cluster address of the node (default: the node the CLI talks to)") String node) {
        JsonNode answer = root.client().post("/node/drain", "node", node);
        if (root.json()) root.output().json(answer);
        else root.output().line(Output.text(answer, "message"));
        return 0;
    }
}
