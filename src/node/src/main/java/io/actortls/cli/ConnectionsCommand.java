package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code actortls connections top|reasons}: the cluster's open client connections and how connections ended. */
@Command(name = "connections", description = "Client connections across the cluster.")
final class ConnectionsCommand {
    @ParentCommand
    ActorTlsCli root;

    enum By { age, bytes }

    @Command(name = "top", description = "The open client connections first by age (oldest first) or bytes (most first).")
    int top(@Option(names = "-n", paramLabel = "N", defaultValue = "10", converter = Arguments.Positive.class,
                    description = "how many (default 10)") int n,
            @Option(names = "--by", paramLabel = "age|bytes", defaultValue = "age",
                    description = "order: ${COMPLETION-CANDIDATES} (default age)") By by) {
        JsonNode answer = root.client().get("/connections/top", "n", Integer.toString(n), "by", by.name());
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode c : answer.get("connections"))
            rows.add(List.of(Output.text(c, "node"), Output.text(c, "client"), Output.text(c, "vhost"),
                    Output.text(c, "pool") + "/" + Output.text(c, "server"),
                    String.format("%.1f s", c.get("ageMillis").asLong() / 1000.0),
                    Output.text(c, "bytesIn"), Output.text(c, "bytesOut")));
        root.output().table(List.of("NODE", "CLIENT", "VHOST", "POOL/SERVER", "AGE", "BYTES IN", "BYTES OUT"), rows);
        int open = 0;
        for (JsonNode node : answer.get("nodes")) {
            open += node.get("open").asInt();
            if (!node.get("error").isNull())
                root.output().line("node " + Output.text(node, "node") + " did not answer: " + Output.text(node, "error"));
        }
        root.output().line("Open: " + open + " connections in the cluster");
        return 0;
    }

    @Command(name = "reasons", description = "Closed connections by reason, per node and for the cluster.")
    int reasons() {
        JsonNode answer = root.client().get("/connections/reasons");
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        List<JsonNode> columns = new ArrayList<>();
        answer.get("nodes").forEach(columns::add);
        columns.add(answer.get("total"));
        Map<String, List<String>> byReason = new TreeMap<>();
        for (int i = 0; i < columns.size(); i++) {
            int column = i;
            columns.get(i).get("closed").properties().forEach(e -> byReason.computeIfAbsent(e.getKey(), k -> {
                List<String> cells = new ArrayList<>();
                for (int j = 0; j < columns.size(); j++) cells.add("0");
                return cells;
            }).set(column, e.getValue().asText()));
        }
        List<String> headers = new ArrayList<>(List.of("REASON"));
        columns.forEach(c -> headers.add(Output.text(c, "node")));
        List<List<String>> rows = new ArrayList<>();
        rows.add(row("(open)", columns, "open"));
        rows.add(row("(accepted)", columns, "accepted"));
        byReason.forEach((reason, cells) -> {
            List<String> row = new ArrayList<>(List.of(reason));
            row.addAll(cells);
            rows.add(row);
        });
        root.output().table(headers, rows);
        for (JsonNode node : answer.get("nodes"))
            if (!node.get("error").isNull())
                root.output().line("node " + Output.text(node, "node") + " did not answer: " + Output.text(node, "error"));
        return 0;
    }

    private static List<String> row(String label, List<JsonNode> columns, String field) {
        List<String> row = new ArrayList<>(List.of(label));
        columns.forEach(c -> row.add(Output.text(c, field)));
        return row;
    }
}
