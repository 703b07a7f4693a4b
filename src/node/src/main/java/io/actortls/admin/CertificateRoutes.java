package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.actortls.tls.CertificateInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Certificates: {@code GET /certs} (what every node serves) and {@code POST /certs/reload}, which reloads every
 * vhost's certificate and key files on every node, all or nothing: first every node prepares (reads its files,
 * builds and validates new OpenSSL contexts, serves nothing new); only if every node prepared do they all
 * commit (swap the new contexts in); otherwise every node discards what it prepared, keeps serving its old
 * certificates, and the answer is 409 naming each refusing node and its reason. A node that fails between its
 * prepare and its commit (it crashed, or the commit did not reach it) is the one case that ends partial: the
 * answer is then 409 too, naming it.
 */
final class CertificateRoutes {
    private CertificateRoutes() {}

    /** One node's part: its certificates (the new ones after a reload), or why it refused. */
    record NodeCertificates(String node, boolean ok, List<CertificateInfo> certificates, String error) {}

    record ReloadView(boolean reloaded, List<NodeCertificates> nodes) {}

    static Route create(ActorSystem<?> system, AdminServices.NodeHandles handles) {
        Duration timeout = handles.config().management().askTimeout();
        return pathPrefix("certs", () -> concat(
                pathEndOrSingleSlash(() -> get(() -> completeWithFuture(ask(system, timeout, replyTo ->
                        new CertificateReloader.GetCertificates(replyTo)).thenApply(nodes -> Json.ok(Map.of("nodes", nodes)))))),
                path("reload", () -> post(() -> completeWithFuture(reload(system, timeout))))));
    }

    private static CompletionStage<HttpResponse> reload(ActorSystem<?> system, Duration timeout) {
        String reloadId = UUID.randomUUID().toString();
        return ask(system, timeout, replyTo -> new CertificateReloader.Prepare(reloadId, replyTo))
                .thenCompose(prepared -> {
                    if (prepared.stream().allMatch(NodeCertificates::ok))
                        return ask(system, timeout, replyTo -> new CertificateReloader.Commit(reloadId, replyTo))
                                .thenApply(committed -> committed.stream().allMatch(NodeCertificates::ok)
                                        ? Json.ok(new ReloadView(true, committed))
                                        : refused("certificate reload committed only in part", committed));
                    return ask(system, timeout, replyTo -> new CertificateReloader.Discard(reloadId, replyTo))
                            .thenApply(discarded -> refused("certificate reload refused, every node keeps its certificates",
                                    prepared));
                });
    }

    private static HttpResponse refused(String what, List<NodeCertificates> nodes) {
        List<String> reasons = nodes.stream().filter(n -> !n.ok()).map(n -> n.node() + ": " + n.error()).toList();
        return Json.response(StatusCodes.CONFLICT, Map.of("error", what + ": " + String.join("; ", reasons),
                "reloaded", false, "nodes", nodes));
    }

    private static CompletionStage<List<NodeCertificates>> ask(ActorSystem<?> system, Duration timeout,
            Function<ActorRef<CertificateReloader.Outcome>, CertificateReloader.Command> question) {
        return ClusterFanOut.<CertificateReloader.Command, CertificateReloader.Outcome>askAll(system, CertificateReloader.KEY,
                question, timeout).thenApply(replies -> replies.stream()
                .map(r -> r.answered() ? new NodeCertificates(r.node(), r.reply().ok(), r.reply().certificates(), r.reply().error())
                        : new NodeCertificates(r.node(), false, List.of(), r.error())).toList());
    }
}
