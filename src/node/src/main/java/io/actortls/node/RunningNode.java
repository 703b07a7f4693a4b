package io.actortls.node;

import io.actortls.session.SessionServices;
import io.actortls.tls.TlsFrontend;
import io.actortls.tls.TlsSetupException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * A started node: its actor system, its TLS frontend and its session services. {@link #start} validates the
 * TLS setup (certificates, keys, ciphers) before the actor system binds anything; {@link #close} stops the
 * actor system and only then frees the native TLS contexts.
 */
public final class RunningNode implements AutoCloseable {
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TERMINATION_GRACE = Duration.ofSeconds(3);

    private final ActorSystem<NodeGuardian.Command> system;
    private final TlsFrontend tls;
    private final SessionServices sessions;

    private RunningNode(ActorSystem<NodeGuardian.Command> system, TlsFrontend tls, SessionServices sessions) {
        this.system = system;
        this.tls = tls;
        this.sessions = sessions;
    }

    /**
     * @throws ConfigurationException     if OpenSSL refuses the TLS setup (naming the key)
     * @throws NodeGuardian.BindException if a listener cannot bind
     * @throws IllegalStateException      if the node does not start in time
     */
    public static RunningNode start(NodeConfig config) {
        SessionServices sessions = SessionServices.create(config.sessions().buckets());
        TlsFrontend tls;
        try {
            tls = new TlsFrontend(config.tls(), config.vhosts().stream().map(NodeConfig.VirtualHost::spec).toList(),
                    config.defaultVhost(), config.unknownSni(), sessions.store(), sessions.ticketKeys());
        } catch (TlsSetupException e) {
            throw new ConfigurationException(keyOf(e) + ": " + e.getMessage(), e);
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        ActorSystem<NodeGuardian.Command> system;
        try {
            system = ActorSystem.create(NodeGuardian.create(config, tls, sessions, started), NodeConfig.SYSTEM_NAME,
                    config.pekko());
        } catch (RuntimeException e) {
            tls.close();
            throw new IllegalStateException("the actor system did not start: " + e.getMessage(), e);
        }
        RunningNode node = new RunningNode(system, tls, sessions);
        // E.g. cluster.join-timeout passing on a machine so busy that the node had not finished starting.
        system.getWhenTerminated().thenRun(() -> started.completeExceptionally(new StoppedWhileStarting(
                CoordinatedShutdown.get(Adapter.toClassic(system)).getShutdownReason())));
        try {
            started.get(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return node;
        } catch (ExecutionException e) {
            node.close();
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            node.close();
            throw new IllegalStateException("the node did not start within " + STARTUP_TIMEOUT.toSeconds() + " s");
        }
    }

    /** The actor system terminated before the node was ready. */
    public static final class StoppedWhileStarting extends IllegalStateException {
        private final transient Optional<CoordinatedShutdown.Reason> reason;

        StoppedWhileStarting(Optional<CoordinatedShutdown.Reason> reason) {
            super("the node stopped while starting (" + reason.map(Object::toString).orElse("unknown reason") + ")");
            this.reason = reason;
        }

        public Optional<CoordinatedShutdown.Reason> reason() {
            return reason;
        }
    }

    public ActorSystem<NodeGuardian.Command> system() {
        return system;
    }

    public SessionServices sessions() {
        return sessions;
    }

    /**
     * Blocks until the actor system has terminated (e.g. after SIGTERM; bounded once the coordinated shutdown
     * has ended, see {@link #awaitEnd}), then frees the TLS contexts.
     *
     * @return why the node stopped
     */
    public Optional<CoordinatedShutdown.Reason> awaitTermination() {
        CompletableFuture<?> terminated = system.getWhenTerminated().toCompletableFuture();
        CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
        while (!terminated.isDone()) {
            try {
                terminated.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException notYet) {
                if (shutdown.getShutdownReason().isPresent() && !awaitEnd(shutdown, terminated)) break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException e) {
                break;
            }
        }
        tls.close();
        return shutdown.getShutdownReason();
    }

    /**
     * Once the coordinated shutdown has run every phase (each bounded by its own timeout), the actor system gets
     * {@link #TERMINATION_GRACE} to terminate. A drained node that has left the cluster must not stay up because
     * some actor does not stop (seen once under load): it is logged, with the threads, and the node ends anyway.
     *
     * @return true if the system terminated
     */
    private boolean awaitEnd(CoordinatedShutdown shutdown, CompletableFuture<?> terminated) {
        try {
            // Already running: run() returns the running shutdown's own future instead of starting another.
            shutdown.run(shutdown.getShutdownReason().get(), Optional.empty()).toCompletableFuture().get();
            terminated.get(TERMINATION_GRACE.toSeconds(), TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException stuck) {
            var log = org.slf4j.LoggerFactory.getLogger(RunningNode.class);
            log.warn("the actor system did not terminate within {} s after the coordinated shutdown; ending anyway. Threads:\n{}",
                    TERMINATION_GRACE.toSeconds(), threadDump());
            return false;
        } catch (ExecutionException | InterruptedException e) {
            return terminated.isDone();
        }
    }

    private static String threadDump() {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.isDaemon() && thread.getState() != Thread.State.BLOCKED) return;
            dump.append(thread.getName()).append(' ').append(thread.getState()).append('\n');
            for (int i = 0; i < Math.min(8, stack.length); i++) dump.append("    at ").append(stack[i]).append('\n');
        });
        return dump.toString();
    }

    /**
     * Stops the node gracefully (see {@code actortls.shutdown} in pekko.hocon): listeners closed, connections
     * drained, pool entities handed over, cluster left. Returns at once; {@link #awaitTermination} waits for the end.
     */
    public void drain(CoordinatedShutdown.Reason reason) {
        CoordinatedShutdown.get(Adapter.toClassic(system)).run(reason, Optional.empty());
    }

    /** Stops the node: coordinated shutdown (leaving the cluster), bounded so that a stuck peer cannot hang us. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            org.slf4j.LoggerFactory.getLogger(RunningNode.class).warn("actor system did not terminate in time: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Safe even if connections remain: SSL_CTX_free drops only our reference; each SSL holds its own.
        tls.close();
    }

    private static String keyOf(TlsSetupException e) {
        String vhost = "actortls.vhosts." + e.virtualHost();
        return switch (e.part()) {
            case VERSIONS -> "actortls.tls.min-version";
            case CIPHERS -> "actortls.tls.ciphers";
            case CIPHERSUITES -> "actortls.tls.ciphersuites";
            case GROUPS -> "actortls.tls.groups";
            case DEFAULT_VHOST -> "actortls.default-vhost";
            case SERVER_NAMES -> vhost + ".server-names";
            case CERTIFICATE -> vhost + ".certificate";
            case PRIVATE_KEY, KEY_MISMATCH -> vhost + ".key";
        };
    }
}
