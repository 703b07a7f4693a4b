package io.actortls.node;

import io.actortls.proxy.ClientConnection;
import io.actortls.proxy.Listener;
import io.actortls.tls.TlsFrontend;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The node's guardian: starts one {@link Listener} per configured listener and completes {@code started}
 * once all are bound, or exceptionally with the first that could not bind.
 */
public final class ActorTlsNode {
    private ActorTlsNode() {}

    public sealed interface Command {}
    record ListenerStatus(Listener.Status status) implements Command {}

    /** A listener could not bind; {@link Main} turns this into exit code 2. */
    public static final class BindException extends RuntimeException {
        BindException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Behavior<Command> create(NodeConfig config, TlsFrontend tls, CompletableFuture<Void> started) {
        return Behaviors.setup(ctx -> {
            Map<String, List<NodeConfig.Backend>> backends = new LinkedHashMap<>();
            config.vhosts().forEach(v -> backends.put(v.name(), v.backends()));
            var settings = new ClientConnection.Settings(tls, Map.copyOf(backends), config.timeouts());
            var statusAdapter = ctx.messageAdapter(Listener.Status.class, ListenerStatus::new);
            Map<String, String> keyByName = new LinkedHashMap<>();
            for (NodeConfig.Listener l : config.listeners()) {
                keyByName.put(l.name(), l.key());
                ctx.spawn(Listener.create(l, settings, config.log().statsInterval(), statusAdapter), "listener-" + l.name());
            }
            Set<String> ready = new HashSet<>();
            return Behaviors.receive(Command.class)
                    .onMessage(ListenerStatus.class, m -> {
                        switch (m.status()) {
                            case Listener.Ready r -> {
                                ready.add(r.listener());
                                if (ready.size() == config.listeners().size()) {
                                    ctx.getLog().info("ActorTls node ready: {} listener(s), {} virtual host(s)",
                                            ready.size(), config.vhosts().size());
                                    started.complete(null);
                                }
                            }
                            case Listener.Failed f -> started.completeExceptionally(new BindException(
                                    keyByName.get(f.listener()) + ": cannot listen on " + f.address() + ": "
                                            + rootMessage(f.cause()), f.cause()));
                        }
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
