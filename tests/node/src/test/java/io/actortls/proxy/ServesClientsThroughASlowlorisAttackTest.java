package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.LegitClients;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.SocketSwarm;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.LongSummaryStatistics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slowloris: 1,000 clients each send a real ClientHello one byte per second. The drip does not keep them alive:
 * each is closed once timeouts.handshake has passed since it connected, counted as handshake-timeout, and while
 * they are all connected, clients through the node to a real backend are served without delay.
 */
class ServesClientsThroughASlowlorisAttackTest {
    private static final int ATTACKERS = 1000;
    private static final String ATTACKER_ADDRESS = "127.0.0.66";
    /** The default, set all the same. */
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** The node's timer starts after the accept, which follows the client's connect by well under this. */
    private static final long EARLIEST_CLOSE_MILLIS = HANDSHAKE_TIMEOUT.toMillis() - 200;
    /** As the node measures it (accept to close), with 1,000 timers firing and 1,000 lines logged at once. */
    private static final long LATEST_CLOSE_MILLIS = HANDSHAKE_TIMEOUT.toMillis() + 3000;
    /**
     * As the clients see it, which adds their own thread's delays on a busy machine. A drip that kept the
     * handshake alive would last until the ClientHello is complete: minutes.
     */
    private static final long LATEST_CLOSE_SEEN_MILLIS = HANDSHAKE_TIMEOUT.toMillis() + 10_000;
    /**
     * A legitimate request (curl's whole run: process start, handshake, request through the node and back) takes
     * tens of ms on an idle machine and at times seconds on a saturated one, with or without an attack: the bounds
     * are relative to the same requests before the attack, and to the handshake timeout, which is what a client
     * held up by the attackers would wait.
     */
    private static final long LEGIT_MEDIAN_SLACK_MILLIS = 200;
    private static final long LEGIT_MAX_MILLIS = HANDSHAKE_TIMEOUT.toMillis();

    @TempDir
    Path dir;

    @Test
    void closesEveryDripAtTheHandshakeTimeoutAndServesOthersMeanwhile() {
        TestPki pki = new TestPki(dir);
        int port = Tools.freePort();
        byte[] clientHello = SClient.clientHello("-servername", "localhost");
        try (BackendProcess backend = BackendProcess.start()) {
            Hocon hocon = new Hocon(port)
                    .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                            List.of("localhost"), List.of(), backend.address())
                    .with("timeouts.handshake = " + HANDSHAKE_TIMEOUT.toSeconds() + "s");
            try (NodeProcess node = NodeProcess.start(dir, hocon.render())) {
                node.awaitReady(Duration.ofSeconds(60));
                LegitClients legit = new LegitClients(pki, port, node);
                legit.serveOne(); // warms the node up
                List<Long> before = legit.serveFor(Duration.ofSeconds(2));

                List<Long> during;
                List<Long> lifetimes;
                try (SocketSwarm swarm = SocketSwarm.to(port, ATTACKERS).from(ATTACKER_ADDRESS).drip(clientHello).start()) {
                    swarm.awaitOpen(ATTACKERS, Duration.ofSeconds(20));
                    // Served while all of them are connected (the first close comes one timeout after its connect).
                    during = legit.serveWhile(() -> swarm.closedByNode() == 0, HANDSHAKE_TIMEOUT);
                    swarm.awaitClosedByNode(ATTACKERS, HANDSHAKE_TIMEOUT.plusSeconds(20));
                    lifetimes = swarm.lifetimesMillis();
                }

                LongSummaryStatistics lived = lifetimes.stream().mapToLong(Long::longValue).summaryStatistics();
                System.out.printf("slowloris: %d attackers lived %d-%d ms; legit curl ms before %s, during %s%n",
                        ATTACKERS, lived.getMin(), lived.getMax(), LegitClients.describe(before), LegitClients.describe(during));
                assertTrue(lived.getMin() >= EARLIEST_CLOSE_MILLIS && lived.getMax() <= LATEST_CLOSE_SEEN_MILLIS,
                        "attackers lived " + lived + " ms; timeouts.handshake is " + HANDSHAKE_TIMEOUT.toMillis() + " ms");

                List<JsonNode> closes = node.awaitCloses(c -> c.path("client").asText().startsWith(ATTACKER_ADDRESS + ":"),
                        ATTACKERS, Duration.ofSeconds(20));
                for (JsonNode close : closes) {
                    assertEquals("handshake-timeout", close.path("reason").asText(), close.toString());
                    long duration = close.path("duration_ms").asLong();
                    assertTrue(duration >= HANDSHAKE_TIMEOUT.toMillis() && duration <= LATEST_CLOSE_MILLIS, close.toString());
                    assertTrue(close.path("client_bytes_in").asLong() >= 2, "the node read the drip: " + close);
                }
                assertEquals(ATTACKERS, new ManagementApi(hocon.management())
                        .metric("actortls_connections_closed_total{reason=\"handshake-timeout\"}"));

                assertTrue(during.size() >= 5, "only " + during.size() + " requests during the attack");
                legit.assertBounded(during, 2 * LegitClients.percentile(before, 50) + LEGIT_MEDIAN_SLACK_MILLIS, LEGIT_MAX_MILLIS);
            }
        }
    }
}
