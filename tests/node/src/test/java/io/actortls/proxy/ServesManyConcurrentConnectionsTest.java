package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64 connections at a time, each a full handshake (verified against the test CA) and a GET, a thousand in all:
 * the load tool sees no error of any kind, and the node logs exactly one ordinary close per connection.
 */
class ServesManyConcurrentConnectionsTest {
    private static final int CONNECTIONS = 1000;
    private static final int CONCURRENCY = 64;

    @TempDir
    Path dir;

    @Test
    void thousandConnectionsSixtyFourAtATimeWithoutErrors() throws Exception {
        TestPki pki = new TestPki(dir);
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, new Hocon(port)
                     .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                             List.of("localhost"), List.of(), backend.address())
                     .render())) {
            // --requests makes every connection run to its end; --duration is only the hard bound on the run
            // (a few seconds are enough here; the bound leaves room for a machine busy with other work).
            Run run = Run.of(List.of(Tools.tlsloadBinary().toString(), "full", "--targets", "127.0.0.1:" + port,
                    "--conns", Integer.toString(CONCURRENCY), "--requests", Integer.toString(CONNECTIONS),
                    "--get", "/100", "--sni", "localhost", "--verify", pki.caCertificate().toString(),
                    "--duration", "60", "--timeout", "20", "--json"), null, Duration.ofSeconds(90));
            assertEquals(0, run.exitCode(), run.all());
            JsonNode report = new ObjectMapper().readTree(run.out());

            Map<String, Long> errors = new TreeMap<>();
            report.path("errors").properties().forEach(e -> errors.put(e.getKey(), e.getValue().asLong()));
            assertEquals(Set.of("refused", "connect", "tls", "timeout", "io", "http"), errors.keySet(), run.out());
            assertTrue(errors.values().stream().allMatch(n -> n == 0), "tlsload errors: " + errors + "\n" + run.stderr());
            assertEquals(CONNECTIONS, report.path("handshakes").asLong(), run.out());
            assertEquals(CONNECTIONS, report.path("transfers").asLong(), run.out());
            assertEquals(100L * CONNECTIONS, report.path("bytes_rx").asLong(), run.out());
            assertEquals("TLSv1.3", report.path("proto").asText(), run.out());

            List<JsonNode> closes = node.awaitCloses(CONNECTIONS, Duration.ofSeconds(30));
            Map<String, Long> reasons = new TreeMap<>();
            closes.forEach(c -> reasons.merge(c.path("reason").asText(), 1L, Long::sum));
            assertEquals(CONNECTIONS, closes.size(), "one close record per connection: " + reasons);
            assertTrue(Set.of("client-closed", "backend-closed").containsAll(reasons.keySet()), "reasons: " + reasons);
            assertTrue(closes.stream().allMatch(c -> c.path("backend_bytes_in").asLong() > 100), "every GET was answered");
        }
    }
}
