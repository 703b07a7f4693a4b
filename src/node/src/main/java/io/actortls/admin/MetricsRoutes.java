package io.actortls.admin;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import io.actortls.metrics.NodeMetrics;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /metrics}: this node's metrics in the Prometheus text format (scrape with a bearer token). */
final class MetricsRoutes {
    private MetricsRoutes() {}

    private static final org.apache.pekko.http.javadsl.model.ContentType PROMETHEUS_TEXT =
            ContentTypes.parse(NodeMetrics.CONTENT_TYPE);

    static Route create(AdminServices.NodeHandles handles) {
        return path("metrics", () -> get(() -> complete(HttpResponse.create()
                .withEntity(HttpEntities.create(PROMETHEUS_TEXT, handles.metrics().scrape())))));
    }
}
