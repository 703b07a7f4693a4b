package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Three nodes with {@code tickets.rotation-interval = 4s}. The ticket keys rotate once per interval for the whole
 * cluster (one rotator, not one per node), every node installs every generation exactly once and in order, and a
 * TLS 1.2 ticket resumes while its key is current or previous, never after that.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RotatesTicketKeysOncePerIntervalTest {
    private static final String INSTALLED = "installed ticket keys generation ";
    private static final Duration INTERVAL = Duration.ofSeconds(4);
    private static final Duration WINDOW = Duration.ofSeconds(14);

    private Path dir;
    private BackendProcess backend;
    private TestCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        dir = Files.createTempDirectory("ticket-rotation");
        TestPki pki = new TestPki(dir);
        TestPki.Cert localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> hocon
                .vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("vhosts.localhost.resumption = \"tickets\"")
                .with("tickets.rotation-interval = " + INTERVAL.toSeconds() + "s")
                .render());
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void everyNodeInstallsEachGenerationOnceInOrderAndTheClusterRotatesOncePerInterval() throws Exception {
        long atStart = newestGeneration();
        long start = System.nanoTime();
        Thread.sleep(WINDOW.toMillis());
        long atEnd = newestGeneration();
        double elapsed = (System.nanoTime() - start) / 1e9;

        for (int node = 1; node <= 3; node++) {
            List<Long> installed = generations(node(node));
            for (int i = 1; i < installed.size(); i++)
                assertEquals(installed.get(i - 1) + 1, installed.get(i),
                        "node " + node + " installed generations " + installed + ": each once, in order, none skipped");
            assertTrue(!installed.isEmpty() && installed.getLast() >= atEnd - 1,
                    "node " + node + " fell behind: it installed " + installed + " while the cluster reached " + atEnd);
        }
        double expected = elapsed / INTERVAL.toSeconds();
        long made = atEnd - atStart;
        assertTrue(Math.abs(made - expected) <= 1, "generations " + atStart + " to " + atEnd + " in " + elapsed
                + " s: " + made + " rotations where one per " + INTERVAL.toSeconds() + " s makes about " + expected);
    }

    @Test
    void ticketResumesUnderThePreviousKeyButNotOnceItsKeyIsRetired() throws Exception {
        NodeProcess maker = node(1);
        NodeProcess resumer = node(2);
        Path ticket = Files.createTempFile(dir, "ticket-", ".pem");
        // Make the ticket just after node 1 installs a generation: its key then stays current there for an interval.
        JsonNode installed = maker.awaitRecord(INSTALLED, maker.records(INSTALLED).size(), r -> true,
                INTERVAL.multipliedBy(3), "node 1 to install the next ticket-key generation");
        long made = generation(installed);
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_TICKET, ticket);
        assertEquals(made, generations(maker).getLast(),
                "the machine is too slow for this test: node 1 rotated while the ticket was being made");

        resumer.awaitRecord(INSTALLED, 0, r -> generation(r) == made + 1, INTERVAL.multipliedBy(3),
                "node 2 to install generation " + (made + 1));
        boolean resumedUnderPrevious = SClient.resumes(cluster.member(2).tlsPort(), "localhost", SClient.Kind.TLS12_TICKET, ticket);
        assertEquals(made + 1, generations(resumer).getLast(),
                "the machine is too slow for this test: node 2 rotated again before the ticket was offered");
        assertTrue(resumedUnderPrevious, "a ticket of generation " + made + " did not resume under generation " + (made + 1));

        resumer.awaitRecord(INSTALLED, 0, r -> generation(r) == made + 2, INTERVAL.multipliedBy(3),
                "node 2 to install generation " + (made + 2));
        assertFalse(SClient.resumes(cluster.member(2).tlsPort(), "localhost", SClient.Kind.TLS12_TICKET, ticket),
                "a ticket of generation " + made + " resumed under generation " + (made + 2) + ", after its key was retired");
    }

    /** The newest generation any node has installed so far. */
    private long newestGeneration() {
        long newest = 0;
        for (int node = 1; node <= 3; node++) {
            List<Long> installed = generations(node(node));
            if (!installed.isEmpty()) newest = Math.max(newest, installed.getLast());
        }
        return newest;
    }

    private static List<Long> generations(NodeProcess node) {
        List<Long> generations = new ArrayList<>();
        for (JsonNode record : node.records(INSTALLED)) generations.add(generation(record));
        return generations;
    }

    private static long generation(JsonNode record) {
        return Long.parseLong(record.path("message").asText().substring(INSTALLED.length()).trim());
    }

    private NodeProcess node(int node) {
        return cluster.member(node).process();
    }
}
