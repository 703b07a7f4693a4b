package io.actortls.routing;

import java.time.Duration;
import java.util.List;

/**
 * A backend pool as configured (pekko.hocon: actortls.pools); the same on every node.
 *
 * @param clusterWide the entity decides every pick; false: each node decides from its own connections
 */
public record PoolSpec(String name, List<ServerSpec> servers, Algorithm algorithm, boolean clusterWide, Duration slowStart,
                       Duration pickTimeout, int queueMaxWaiting, Duration queueTimeout, Duration drainDeadline,
                       HealthCheckSettings health, int passiveFailures, Duration passiveRetry) {}
