package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code actortls sessions stats|lookup PREFIX|flush}: the cluster session cache. */
@Command(name = "sessions", description = "The cluster session cache.")
final class SessionsCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "stats", description = "Every node's session-cache counters, and their sum over the cluster.")
    int stats() {
        JsonNode answer = root.client().get("/sessions/stats");
        if (root.json()) {
            root.output().json(answer);
            return missing(answer) ? 1 : 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : answer.get("nodes")) rows.add(statsRow(n));
        rows.add(statsRow(answer.get("cluster")));
        root.output().table(List.of("NODE", "CACHED", "STORED", "HITS", "MISSES", "REMOTE-HITS", "RESUMED-REMOTE",
                "FETCHED", "FETCH-MISSES", "FETCH-TIMEOUTS", "EVICTED", "EXPIRED", "REMOVED"), rows);
        return printMissing(answer);
    }

    @Command(name = "lookup", description = "Sessions whose ID starts with PREFIX (at least 4 hex digits): metadata only.")
    int lookup(@Parameters(paramLabel = "PREFIX", description = "hex digits of a session ID") String prefix,
               @Option(names = "--limit", paramLabel = "N", converter = Arguments.Positive.class,
                       description = "list at most N sessions (default 100)") Integer limit) {
        JsonNode answer = root.client().get("/sessions/lookup", "prefix", prefix, "limit", limit == null ? null : limit.toString());
        if (root.json()) {
            root.output().json(answer);
            return missing(answer) ? 1 : 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode s : answer.get("sessions"))
            rows.add(List.of(s.get("id").asText(), Output.text(s, "vhost"), Output.text(s, "kind"), Output.text(s, "created"),
                    Output.text(s, "expires"), Output.text(s, "origin"), String.join(",", NodesCommand.texts(s.get("heldBy")))));
        if (rows.isEmpty()) root.output().line("no cached session's ID starts with " + answer.get("prefix").asText());
        else root.output().table(List.of("ID", "VHOST", "KIND", "CREATED", "EXPIRES", "ORIGIN", "HELD-BY"), rows);
        if (answer.get("truncated").asBoolean()) root.output().line("(more match: give a longer prefix or --limit)");
        return printMissing(answer);
    }

    @Command(name = "flush", description = "Remove every cached session on every node: none of them resumes any more.")
    int flush() {
        JsonNode answer = root.client().post("/sessions/flush");
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        List<String> perNode = new ArrayList<>();
        for (JsonNode n : answer.get("nodes")) perNode.add(n.get("node").asText() + " " + n.get("revoked").asText());
        root.output().line("flushed " + answer.get("flushed").asText() + " sessions (revoked per node: "
                + String.join(", ", perNode) + ")");
        return 0;
    }

    private static List<String> statsRow(JsonNode s) {
        List<String> row = new ArrayList<>(List.of(s.get("node").asText()));
        for (String field : List.of("cached", "stored", "hits", "misses", "remoteHits", "resumedRemote", "fetchHits",
                "fetchMisses", "fetchTimeouts", "evictions", "expiries", "removals"))
            row.add(s.get(field).asText());
        return row;
    }

    private static boolean missing(JsonNode answer) {
        return answer.has("missing") && !answer.get("missing").isEmpty();
    }

    /** Nodes that gave no answer make the command fail: the figures are incomplete. */
    private int printMissing(JsonNode answer) {
        if (!missing(answer)) return 0;
        for (JsonNode m : answer.get("missing"))
            root.output().line("no answer from " + m.get("node").asText() + ": " + Output.text(m, "error"));
        return 1;
    }
}
