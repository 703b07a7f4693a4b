package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code actortls certs show|reload}: the certificates every node serves, and reloading them from disk. */
@Command(name = "certs", description = "Virtual-host certificates.")
final class CertsCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "show", description = "The certificate each node serves for each virtual host.")
    int show() {
        JsonNode answer = root.client().get("/certs");
        if (root.json()) root.output().json(answer);
        else table(answer);
        return answer.get("nodes").findValues("ok").stream().allMatch(JsonNode::asBoolean) ? 0 : 1;
    }

    @Command(name = "reload", description = {"Every node re-reads its vhosts' certificate and key files and serves them",
            "to new connections, all nodes or none: if any node's files do not load, every node keeps its",
            "certificates and the command exits 1 naming the node and the reason."})
    int reload() {
        JsonNode answer = root.client().post("/certs/reload");
        if (root.json()) {
            root.output().json(answer);
            return 0;
        }
        table(answer);
        root.output().line("reloaded on " + answer.get("nodes").size() + " nodes");
        return 0;
    }

    private void table(JsonNode answer) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : answer.get("nodes")) {
            if (!n.get("ok").asBoolean()) {
                rows.add(List.of(n.get("node").asText(), "-", "-", "-", "-", "error: " + Output.text(n, "error")));
                continue;
            }
            for (JsonNode c : n.get("certificates"))
                rows.add(List.of(n.get("node").asText(), c.get("vhost").asText(), c.get("subject").asText(),
                        c.get("serial").asText(), c.get("notAfter").asText(), c.get("sha256Fingerprint").asText()));
        }
        root.output().table(List.of("NODE", "VHOST", "SUBJECT", "SERIAL", "NOT-AFTER", "SHA-256"), rows);
    }
}
