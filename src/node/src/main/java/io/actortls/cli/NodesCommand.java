package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code actortls nodes}: every node of the cluster, as its NodeAdmin describes itself. */
@Command(name = "nodes", description = "List every node: cluster address, management address, uptime, listeners.")
final class NodesCommand implements Callable<Integer> {
    @ParentCommand
    ActorTlsCli root;

    @Override
    public Integer call() {
        JsonNode answer = root.client().get("/nodes");
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : answer.get("nodes")) {
            JsonNode info = n.get("reply");
            rows.add(info == null || info.isNull()
                    ? List.of(Output.text(n, "node"), "-", "-", "no answer: " + Output.text(n, "error"))
                    : List.of(Output.text(info, "node"), Output.text(info, "management"),
                    info.get("uptimeSeconds").asText() + " s", String.join(", ", texts(info.get("listeners")))));
        }
        root.output().table(List.of("NODE", "MANAGEMENT", "UPTIME", "LISTENERS"), rows);
        return answer.findValues("error").stream().anyMatch(e -> !e.isNull()) ? 1 : 0;
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) array.forEach(v -> out.add(v.asText()));
        return out;
    }
}
