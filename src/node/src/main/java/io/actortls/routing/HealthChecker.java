package io.actortls.routing;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Actively checks one backend server and tells {@code reportTo} whether it is up, with HAProxy's rise/fall rule:
 * an up server goes down after {@code fall} consecutive failed checks, a down one comes up after {@code rise}
 * consecutive passed ones. The server starts in an unknown state, and its first check decides on its own (one pass:
 * up, one failure: down), so that a pool learns within one check after start instead of {@code rise} of them.
 *
 * <p>The first check starts at once, later ones every {@code interval}, each a few percent early or late at random
 * so that the checkers of a big pool, started together, do not check in step. Each check's blocking socket work runs
 * on a virtual thread of this checker's own executor ({@link HealthProbe}) and comes back as a message, so no
 * dispatcher thread ever waits on a socket; a check is given up after {@code timeout} even if its socket is stuck
 * (in name resolution, say). A check still running when the next one is due is left alone rather than doubled. On
 * stop the running check's socket is closed and the executor shut down; a result that would arrive after that is
 * dropped without reaching dead letters.
 *
 * <p>Kind {@link HealthCheckSettings.Kind#NONE} has nothing to check, so {@link #create} refuses it: a pool whose
 * servers are not checked treats them as up and starts no checker, rather than waiting on one that never reports.
 */
public final class HealthChecker {
    private HealthChecker() {}

    public sealed interface Command {}
    private enum Tick implements Command { INSTANCE }
    private record Checked(long check, HealthProbe.Result result) implements Command {}
    private record Overdue(long check) implements Command {}

    /** Sent to {@code reportTo} on the first verdict and on every change after it. */
    public record Report(String server, boolean up, String reason) {}

    private static final Object OVERDUE_TIMER = "overdue";

    /**
     * @throws IllegalArgumentException for kind NONE, a port outside 1..65535 or a blank server name or host,
     *     at once rather than in the actor, so that the mistake shows where the checker is spawned
     */
    public static Behavior<Command> create(String server, String host, int port, HealthCheckSettings settings,
                                           ActorRef<Report> reportTo) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(reportTo, "reportTo");
        if (settings.kind() == HealthCheckSettings.Kind.NONE)
            throw new IllegalArgumentException("server " + server + ": health check kind NONE has nothing to check; start no checker");
        if (server == null || server.isBlank()) throw new IllegalArgumentException("health-checked server needs a name");
        if (host == null || host.isBlank()) throw new IllegalArgumentException("server " + server + ": no host to check");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("server " + server + ": port " + port + " out of range");
        return Behaviors.setup(ctx -> {
            ctx.setLoggerName(HealthChecker.class); // else the logger is named after whichever lambda logs first
            return Behaviors.withTimers(timers -> new Checker(ctx, timers, server, host, port, settings, reportTo).start());
        });
    }

    private enum State { UNKNOWN, UP, DOWN }

    private static final class Checker {
        private final ActorContext<Command> ctx;
        private final TimerScheduler<Command> timers;
        private final String server;
        private final String host;
        private final int port;
        private final HealthCheckSettings settings;
        private final ActorRef<Report> reportTo;
        // Per checker, so that stopping it ends its threads without touching other checkers'.
        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

        private State state = State.UNKNOWN;
        /** Consecutive results that disagree with {@link #state}: failures while up, passes while down. */
        private int streak;
        private long checks;
        private HealthProbe running;
        private long runningCheck;

        Checker(ActorContext<Command> ctx, TimerScheduler<Command> timers, String server, String host, int port,
                HealthCheckSettings settings, ActorRef<Report> reportTo) {
            this.ctx = ctx;
            this.timers = timers;
            this.server = server;
            this.host = host;
            this.port = port;
            this.settings = settings;
            this.reportTo = reportTo;
        }

        Behavior<Command> start() {
            ctx.getSelf().tell(Tick.INSTANCE);
            return Behaviors.receive(Command.class)
                    .onMessage(Tick.class, m -> {
                        timers.startSingleTimer(Tick.INSTANCE, Tick.INSTANCE, nextDelay());
                        if (running != null) {
                            ctx.getLog().debug("server {}: check {} still running when the next was due; skipping one",
                                    server, runningCheck);
                        } else {
                            startCheck();
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Checked.class, m -> {
                        if (running != null && m.check() == runningCheck) {
                            timers.cancel(OVERDUE_TIMER);
                            running = null;
                            record(m.result());
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Overdue.class, m -> {
                        if (running != null && m.check() == runningCheck) {
                            running.abort();
                            running = null;
                            record(new HealthProbe.Result(false, "timeout after " + settings.timeout().toMillis() + " ms"));
                        }
                        return Behaviors.same();
                    })
                    .onSignal(PostStop.class, s -> {
                        if (running != null) running.abort();
                        executor.shutdownNow(); // interrupts whatever is left; never waits on this thread
                        return Behaviors.same();
                    })
                    .build();
        }

        private void startCheck() {
            long check = ++checks;
            HealthProbe probe = new HealthProbe(host, port, settings);
            CompletableFuture<HealthProbe.Result> done = new CompletableFuture<>();
            try {
                executor.execute(() -> {
                    HealthProbe.Result result = probe.run();
                    // An aborted check was already counted, or its checker is gone: its result goes nowhere.
                    if (!probe.aborted()) done.complete(result);
                });
            } catch (RuntimeException e) {
                record(new HealthProbe.Result(false, "check not started: " + e));
                return;
            }
            running = probe;
            runningCheck = check;
            ctx.pipeToSelf(done, (result, failure) -> new Checked(check,
                    result != null ? result : new HealthProbe.Result(false, "check error: " + failure)));
            timers.startSingleTimer(OVERDUE_TIMER, new Overdue(check), settings.timeout());
        }

        private void record(HealthProbe.Result result) {
            switch (state) {
                case UNKNOWN -> change(result.passed(), result.passed() ? "1 check passed" : result.reason(), 1);
                case UP -> {
                    if (result.passed()) streak = 0;
                    else if (++streak >= settings.fall()) change(false, result.reason(), streak);
                }
                case DOWN -> {
                    if (!result.passed()) streak = 0;
                    else if (++streak >= settings.rise())
                        change(true, streak + (streak == 1 ? " check passed" : " checks passed"), streak);
                }
            }
        }

        private void change(boolean up, String reason, int checksInARow) {
            state = up ? State.UP : State.DOWN;
            streak = 0;
            ctx.getLog().info("backend server {} {} {} {} {}", kv("server", server), kv("address", HealthProbe.authority(host, port)),
                    kv("state", up ? "up" : "down"), kv("reason", reason), kv("checks", checksInARow));
            reportTo.tell(new Report(server, up, reason));
        }

        /** One interval, up to 5% either way: the checks spread out, and their average rate stays one an interval. */
        private Duration nextDelay() {
            long millis = settings.interval().toMillis();
            long spread = millis / 10;
            return Duration.ofMillis(millis - spread / 2 + ThreadLocalRandom.current().nextLong(spread + 1));
        }
    }
}
