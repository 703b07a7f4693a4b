package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameter;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.actortls.logging.LogLevels;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Logs: {@code GET /log/peek?n=50} (this node's last lines, a JSON array of strings), {@code GET /log/level?logger=}
 * (this node's level of a logger, default the root), {@code PUT /log/level?logger=&level=} (on every node).
 */
final class LogRoutes {
    private LogRoutes() {}

    private static final int DEFAULT_PEEK = 50;

    /** @param level the logger's own, null when it inherits */
    record NodeLevel(String node, String logger, String level, String effectiveLevel) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        var timeout = handles.config().management().askTimeout();
        return pathPrefix("log", () -> concat(
                path("peek", () -> get(() -> parameterOptional("n", n -> {
                    int capacity = handles.recentLines().capacity();
                    Optional<Integer> count = n.map(LogRoutes::positive).orElse(Optional.of(DEFAULT_PEEK));
                    if (count.isEmpty())
                        return complete(Json.refused(StatusCodes.BAD_REQUEST, "n must be a whole number from 1 to "
                                + capacity + ", is " + n.get()));
                    return complete(Json.ok(handles.recentLines().last(Math.min(count.get(), capacity))));
                }))),
                path("level", () -> concat(
                        get(() -> parameterOptional("logger", logger -> {
                            var level = LogLevels.get(logger.filter(l -> !l.isBlank()).orElse("ROOT"));
                            return complete(Json.ok(new NodeLevel(handles.self(), level.logger(), level.level(),
                                    level.effectiveLevel())));
                        })),
                        put(() -> parameterOptional("logger", logger -> parameter("level", text -> {
                            String name = logger.filter(l -> !l.isBlank()).orElse("ROOT");
                            Optional<String> level = LogLevels.parse(name, text);
                            if (level.isEmpty())
                                return complete(Json.refused(StatusCodes.BAD_REQUEST, "\"" + text
                                        + "\" is not a log level; use one of " + String.join(", ", LogLevels.LEVELS)
                                        + " (INHERIT: not for ROOT)"));
                            return completeWithFuture(ClusterFanOut.<LogLevelAdmin.Command, LogLevelAdmin.Level>askAll(
                                            system, LogLevelAdmin.KEY,
                                            replyTo -> new LogLevelAdmin.SetLevel(name, level.get(), replyTo), timeout)
                                    .thenApply(replies -> Json.ok(Map.of("logger", name, "level", level.get(),
                                            "nodes", replies))));
                        })))))));
    }

    private static Optional<Integer> positive(String text) {
        try {
            int n = Integer.parseInt(text.strip());
            return n >= 1 ? Optional.of(n) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
