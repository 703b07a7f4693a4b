package io.actortls.admin;

import io.actortls.node.ClusterMessage;
import io.actortls.tls.CertificateInfo;
import io.actortls.tls.TlsFrontend;
import io.actortls.tls.TlsSetupException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per node: this node's side of a cluster-wide certificate reload, in two phases. {@link Prepare} reads
 * every vhost's certificate and key files (the paths in this node's configuration) and has OpenSSL build new
 * contexts from them, serving nothing yet; {@link Commit} swaps them in, {@link Discard} frees them. The
 * coordinator ({@link CertificateRoutes}) commits only when every node prepared, so a file that is broken on one
 * node leaves every node on its old certificates. A prepared reload that is neither committed nor discarded
 * (the coordinator went away) is discarded after {@link #PREPARED_FOR}.
 */
public final class CertificateReloader {
    private CertificateReloader() {}

    public sealed interface Command extends ClusterMessage {}

    public record Prepare(String reloadId, ActorRef<Outcome> replyTo) implements Command {}

    public record Commit(String reloadId, ActorRef<Outcome> replyTo) implements Command {}

    public record Discard(String reloadId, ActorRef<Outcome> replyTo) implements Command {}

    /** The certificates this node serves now. */
    public record GetCertificates(ActorRef<Outcome> replyTo) implements Command {}

    /**
     * @param certificates after Prepare, those the new contexts hold; otherwise those this node serves
     * @param error        why this node refused, null if it did not
     */
    public record Outcome(boolean ok, List<CertificateInfo> certificates, String error) implements ClusterMessage {}

    private record Expire(String reloadId) implements Command {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "actortls-certificate-reloader");

    /** Far longer than a coordinator waits between the phases (two ask timeouts). */
    static final Duration PREPARED_FOR = Duration.ofSeconds(60);

    public static Behavior<Command> create(TlsFrontend tls) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            Map<String, TlsFrontend.PreparedCertificates> prepared = new HashMap<>();
            return Behaviors.receive(Command.class)
                    .onMessage(Prepare.class, m -> {
                        try {
                            TlsFrontend.PreparedCertificates ready = tls.prepareCertificates();
                            TlsFrontend.PreparedCertificates earlier = prepared.put(m.reloadId(), ready);
                            if (earlier != null) earlier.close();
                            timers.startSingleTimer(m.reloadId(), new Expire(m.reloadId()), PREPARED_FOR);
                            m.replyTo().tell(new Outcome(true, ready.certificates(), null));
                        } catch (TlsSetupException e) {
                            ctx.getLog().warn("certificate reload refused: {}", reason(e));
                            m.replyTo().tell(new Outcome(false, tls.certificates(), reason(e)));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Commit.class, m -> {
                        TlsFrontend.PreparedCertificates ready = prepared.remove(m.reloadId());
                        timers.cancel(m.reloadId());
                        if (ready == null) {
                            m.replyTo().tell(new Outcome(false, tls.certificates(),
                                    "no prepared reload " + m.reloadId() + " (discarded after " + PREPARED_FOR.toSeconds() + " s)"));
                        } else {
                            tls.install(ready);
                            ctx.getLog().info("certificates reloaded: {}", tls.certificates());
                            m.replyTo().tell(new Outcome(true, tls.certificates(), null));
                        }
                        return Behaviors.same();
                    })
                    .onMessage(Discard.class, m -> {
                        discard(prepared, m.reloadId());
                        timers.cancel(m.reloadId());
                        m.replyTo().tell(new Outcome(true, tls.certificates(), null));
                        return Behaviors.same();
                    })
                    .onMessage(Expire.class, m -> {
                        discard(prepared, m.reloadId());
                        return Behaviors.same();
                    })
                    .onMessage(GetCertificates.class, m -> {
                        m.replyTo().tell(new Outcome(true, tls.certificates(), null));
                        return Behaviors.same();
                    })
                    .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> {
                        prepared.values().forEach(TlsFrontend.PreparedCertificates::close);
                        return Behaviors.same();
                    })
                    .build();
        }));
    }

    private static void discard(Map<String, TlsFrontend.PreparedCertificates> prepared, String reloadId) {
        TlsFrontend.PreparedCertificates dropped = prepared.remove(reloadId);
        if (dropped != null) dropped.close();
    }

    /** The vhost and OpenSSL's reason, e.g. "vhost localhost: private key ... does not match certificate ...". */
    private static String reason(TlsSetupException e) {
        return (e.virtualHost() == null ? "" : "vhost " + e.virtualHost() + ": ") + e.getMessage();
    }
}
