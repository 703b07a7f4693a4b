package io.actortls.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code actortls metrics}: the node's Prometheus text, as a scraper sees it. */
@Command(name = "metrics", description = "Print the node's metrics in the Prometheus text format (GET /metrics).")
final class MetricsCommand implements Callable<Integer> {
    @ParentCommand
    ActorTlsCli root;

    @Override
    public Integer call() {
        String text = root.client().getText("/metrics");
        root.output().line(text.stripTrailing());
        return 0;
    }
}
