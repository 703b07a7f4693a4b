package io.actortls.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code actortls log peek|level}: a node's recent log lines, and log levels on every node. */
@Command(name = "log", description = "Recent log lines and log levels.")
final class LogCommand {
    @ParentCommand
    ActorTlsCli root;

    @Command(name = "peek", description = "The node's last log lines (kept in memory: actortls.log.memory-lines).")
    int peek(@Option(names = "-n", paramLabel = "N", defaultValue = "50", converter = Arguments.Positive.class,
            description = "how many lines (default 50)") int n) {
        JsonNode lines = root.client().get("/log/peek", "n", String.valueOf(n));
        if (root.json()) root.output().json(lines);
        else lines.forEach(line -> root.output().line(line.asText()));
        return 0;
    }

    @Command(name = "level", description = {"Show a logger's level on the node, or set it on every node of the cluster.",
            "LEVEL: TRACE, DEBUG, INFO, WARN, ERROR, OFF, or INHERIT (take the parent's; not for ROOT)."})
    int level(@Option(names = "--logger", paramLabel = "NAME", defaultValue = "ROOT",
                      description = "logger name, e.g. io.actortls or actortls.connection (default ROOT)") String logger,
              @Parameters(paramLabel = "LEVEL", arity = "0..1", description = "the new level; without it, show") String level) {
        if (level == null) {
            JsonNode answer = root.client().get("/log/level", "logger", logger);
            if (root.json()) root.output().json(answer);
            else root.output().table(List.of("NODE", "LOGGER", "LEVEL", "EFFECTIVE"), List.of(List.of(
                    Output.text(answer, "node"), Output.text(answer, "logger"), Output.text(answer, "level"),
                    Output.text(answer, "effectiveLevel"))));
            return 0;
        }
        JsonNode answer = root.client().put("/log/level", "logger", logger, "level", level);
        if (root.json()) root.output().json(answer);
        List<List<String>> rows = new ArrayList<>();
        boolean missing = false;
        for (JsonNode n : answer.get("nodes")) {
            JsonNode reply = n.get("reply");
            missing |= reply == null || reply.isNull();
            rows.add(reply == null || reply.isNull()
                    ? List.of(Output.text(n, "node"), "-", "-", "no answer: " + Output.text(n, "error"))
                    : List.of(Output.text(n, "node"), Output.text(reply, "logger"), Output.text(reply, "level"),
                    Output.text(reply, "effectiveLevel")));
        }
        if (!root.json()) root.output().table(List.of("NODE", "LOGGER", "LEVEL", "EFFECTIVE"), rows);
        return missing ? 1 : 0;
    }
}
