package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code actortls cluster show|status|leader|join|leave|down|down-unreachable|tail}, like pbm's cluster palette. */
@Command(name = "cluster", description = "Cluster membership.", subcommandsRepeatable = false)
final class ClusterCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "show", description = "Every member: address, status, roles, reachability, leader and oldest.")
    int show() {
        JsonNode view = root.client().get("/cluster");
        if (root.json()) {
            root.output().json(view);
            return 0;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode m : view.get("members")) rows.add(memberRow(m));
        root.output().table(List.of("ADDRESS", "STATUS", "ROLES", "REACHABLE", "NOTE"), rows);
        root.output().line("Count: " + rows.size() + " members");
        return 0;
    }

    @Command(name = "status", description = "This node's membership line (the node the CLI talks to).")
    int status() {
        JsonNode view = root.client().get("/cluster");
        String self = view.get("self").asText();
        for (JsonNode m : view.get("members")) {
            if (m.get("address").asText().equals(self)) {
                if (root.json()) root.output().json(m);
                else root.output().table(List.of("ADDRESS", "STATUS", "ROLES", "REACHABLE", "NOTE"), List.of(memberRow(m)));
                return 0;
            }
        }
        throw new CliFailure(self + " is not (or no longer) a member of its cluster");
    }

    @Command(name = "leader", description = "The cluster leader's address.")
    int leader() {
        JsonNode view = root.client().get("/cluster");
        if (root.json()) {
            root.output().json(ManagementClient.MAPPER.createObjectNode().set("leader", view.get("leader")));
            return 0;
        }
        if (view.get("leader").isNull()) throw new CliFailure("the cluster has no leader now");
        root.output().line(view.get("leader").asText());
        return 0;
    }

    @Command(name = "join", description = "Make the node join the cluster of ADDRESS.")
    int join(@Parameters(paramLabel = "ADDRESS", description = "host:port or pekko://actortls@host:port") String address) {
        return change(root.client().post("/cluster/join", "address", address));
    }

    @Command(name = "leave", description = "Make ADDRESS (default: the node itself) leave the cluster gracefully.")
    int leave(@Parameters(paramLabel = "ADDRESS", arity = "0..1") String address) {
        return change(root.client().post("/cluster/leave", "address", address));
    }

    @Command(name = "down", description = "Mark ADDRESS down (it is removed without leaving; use for dead nodes).")
    int down(@Parameters(paramLabel = "ADDRESS") String address) {
        return change(root.client().post("/cluster/down", "address", address));
    }

    @Command(name = "down-unreachable", description = "Mark every unreachable member down.")
    int downUnreachable() {
        JsonNode answer = root.client().post("/cluster/down-unreachable");
        if (root.json()) root.output().json(answer);
        else if (answer.get("downed").isEmpty()) root.output().line("no unreachable members");
        else answer.get("downed").forEach(a -> root.output().line("downed " + a.asText()));
        return 0;
    }

    @Command(name = "tail", description = "Print membership events as they happen (the current members first).")
    int tail(@Option(names = "--count", paramLabel = "N", converter = Arguments.Positive.class,
                     description = "stop after N events") Integer count,
             @Option(names = "--for", paramLabel = "SECONDS", converter = Arguments.Positive.class,
                     description = "stop after this many seconds") Integer seconds) {
        int[] seen = {0};
        root.client().stream("/cluster/events", Duration.ofSeconds(seconds == null ? Long.MAX_VALUE / 4_000_000_000L : seconds), e -> {
            if (root.json()) root.output().line(e.toString());
            else root.output().line(String.join("  ", Output.text(e, "time"), Output.text(e, "event"),
                    Output.text(e, "address"), Output.text(e, "status")));
            return count == null || ++seen[0] < count;
        });
        return 0;
    }

    private int change(JsonNode answer) {
        if (root.json()) root.output().json(answer);
        else root.output().line(Output.text(answer, "message"));
        return 0;
    }

    private static List<String> memberRow(JsonNode m) {
        List<String> notes = new ArrayList<>();
        if (m.get("leader").asBoolean()) notes.add("leader");
        if (m.get("oldest").asBoolean()) notes.add("oldest");
        return List.of(m.get("address").asText(), m.get("status").asText(),
                "[" + String.join(", ", NodesCommand.texts(m.get("roles"))) + "]",
                m.get("reachable").asBoolean() ? "yes" : "UNREACHABLE", String.join(", ", notes));
    }
}
