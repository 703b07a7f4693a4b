package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code actortls pools list|show POOL}: the backend pools as their entities see them, with every node's connections. */
@Command(name = "pools", description = "Backend pools.")
final class PoolsCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "list", description = "Every pool: algorithm, scope, servers, healthy servers, open connections.")
    int list() {
        JsonNode answer = root.client().get("/pools");
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode p : answer.get("pools"))
            rows.add(List.of(Output.text(p, "pool"), Output.text(p, "algorithm"), Output.text(p, "scope"),
                    Output.text(p, "servers"), Output.text(p, "healthy"), Output.text(p, "connections"),
                    Output.text(p, "waiting"), p.get("error").isNull() ? "" : "no answer: " + Output.text(p, "error")));
        root.output().table(List.of("POOL", "ALGORITHM", "SCOPE", "SERVERS", "HEALTHY", "CONNECTIONS", "WAITING", "NOTE"), rows);
        return 0;
    }

    @Command(name = "show", description = "One pool's servers: address, weight, state, health, connections by node.")
    int show(@Parameters(paramLabel = "POOL") String pool) {
        JsonNode answer = root.client().get("/pools/" + ManagementClient.segment(pool));
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        JsonNode queue = answer.get("queue");
        root.output().line("Pool " + Output.text(answer, "pool") + ": " + Output.text(answer, "algorithm") + ", scope "
                + Output.text(answer, "scope") + ", entity on " + Output.text(answer, "entityNode") + "; queue "
                + Output.text(queue, "waiting") + " waiting (max " + Output.text(queue, "maxWaiting") + ", timeout "
                + Output.text(queue, "timeoutMillis") + " ms)");
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode s : answer.get("servers")) {
            List<String> byNode = new ArrayList<>();
            s.get("connectionsByNode").properties().forEach(e -> byNode.add(e.getKey() + "=" + e.getValue().asText()));
            String max = s.get("maxConnections").asInt() == 0 ? "-" : s.get("maxConnections").asText();
            rows.add(List.of(Output.text(s, "name"), Output.text(s, "address"),
                    Output.text(s, "weight") + " (" + Output.text(s, "effectiveWeight") + ")", Output.text(s, "admin"),
                    Output.text(s, "health"), Output.text(s, "connections") + "/" + max, String.join(" ", byNode)));
        }
        root.output().table(List.of("SERVER", "ADDRESS", "WEIGHT (EFFECTIVE)", "STATE", "HEALTH", "CONNECTIONS/MAX",
                "BY NODE"), rows);
        answer.get("unanswered").properties().forEach(e ->
                root.output().line("node " + e.getKey() + " did not report its connections: " + e.getValue().asText()));
        return 0;
    }
}
