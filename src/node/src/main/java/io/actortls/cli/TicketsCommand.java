package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code actortls tickets show|rotate}: the cluster's session-ticket keys (generations and ages, never keys). */
@Command(name = "tickets", description = "The cluster's session-ticket keys.")
final class TicketsCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "show", description = "Every node's ticket-key generations (previous, current, next) and their ages.")
    int show() {
        JsonNode answer = root.client().get("/tickets");
        if (root.json()) {
            root.output().json(answer);
            return answer.get("missing").isEmpty() ? 0 : 1;
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : answer.get("nodes")) {
            boolean none = n.get("current").asLong() == 0;
            rows.add(List.of(n.get("node").asText(), none ? "none yet" : n.get("current").asText(),
                    none ? "-" : duration(n.get("currentAgeSeconds").asLong()),
                    Output.text(n, "previous") + (n.hasNonNull("previousAgeSeconds") ? " (" + duration(n.get("previousAgeSeconds").asLong()) + ")" : ""),
                    Output.text(n, "next"), Output.text(n, "installedAt"), Output.text(n, "nextRotation")));
        }
        root.output().table(List.of("NODE", "CURRENT", "AGE", "PREVIOUS", "NEXT", "INSTALLED", "NEXT-ROTATION"), rows);
        root.output().line("Rotation interval: " + duration(answer.get("rotationIntervalSeconds").asLong()));
        for (JsonNode m : answer.get("missing"))
            root.output().line("no answer from " + m.get("node").asText() + ": " + Output.text(m, "error"));
        return answer.get("missing").isEmpty() ? 0 : 1;
    }

    @Command(name = "rotate", description = "Rotate the ticket keys now (every node installs the new generation within seconds).")
    int rotate() {
        JsonNode answer = root.client().post("/tickets/rotate");
        if (root.json()) root.output().json(answer);
        else root.output().line("ticket keys rotated: generation " + answer.get("generation").asText() + " is current");
        return 0;
    }

    /** 43200 → "12h", 95 → "1m 35s". */
    static String duration(long seconds) {
        if (seconds == 0) return "0s";
        List<String> parts = new ArrayList<>();
        long[] units = {86_400, 3_600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (seconds >= units[i]) {
                parts.add(seconds / units[i] + names[i]);
                seconds %= units[i];
            }
        }
        return String.join(" ", parts);
    }
}
