package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls tickets show|rotate} against a live 3-node cluster: a rotation asked of one node makes a new
 * generation that every node installs within seconds; tickets issued before it still resume (the previous key
 * decrypts); no output carries key material.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RotatesTicketKeysOnDemandOnEveryNodeTest {
    @TempDir
    static Path dir;
    private BackendProcess backend;
    private TestCluster cluster;
    private final List<String> management = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.vhost("localhost", cert, List.of("localhost"), List.of(), backend.address())
                    .defaultVhost("localhost").render();
        });
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void rotateMakesANewGenerationThatEveryNodeInstallsAndOldTicketsStillResume() throws Exception {
        long before = awaitSameGeneration(0, Duration.ofSeconds(20));
        Path ticket = dir.resolve("ticket.pem");
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS13_TICKET, ticket);

        Cli.Result rotate = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "tickets", "rotate", "--json");
        long answered = System.currentTimeMillis();
        assertEquals(0, rotate.exitCode(), rotate.toString());
        long generation = rotate.json().get("generation").asLong();
        assertEquals(before + 1, generation, rotate.out());

        awaitSameGeneration(generation, Duration.ofSeconds(10));
        long seen = System.currentTimeMillis();
        for (String node : management) {
            Cli.Result show = Cli.against(node, Hocon.MANAGEMENT_TOKEN, "tickets", "show", "--json");
            assertEquals(0, show.exitCode(), show.toString());
            assertEquals(3, show.json().get("nodes").size(), show.out());
            for (JsonNode n : show.json().get("nodes")) {
                assertEquals(generation, n.get("current").asLong(), show.out());
                assertEquals(generation - 1, n.get("previous").asLong(), show.out());
                assertEquals(generation + 1, n.get("next").asLong(), show.out());
                assertTrue(n.get("currentAgeSeconds").asLong() < 60, show.out());
            }
            String lower = show.out().toLowerCase(Locale.ROOT);
            assertFalse(lower.contains("hmac") || lower.contains("aes") || lower.contains("\"name\""), show.out());
        }
        // How long the nodes took, from the generation's creation (on the rotator) to each node's installation.
        JsonNode nodes = ticketKeys(management.get(0)).get("nodes");
        List<String> delays = new ArrayList<>();
        for (JsonNode n : nodes)
            delays.add(n.get("node").asText() + " +" + (Instant.parse(n.get("installedAt").asText()).toEpochMilli()
                    - Instant.parse(n.get("createdAt").asText()).toEpochMilli()) + " ms");
        System.out.println("ticket generation " + generation + " installed: " + String.join(", ", delays)
                + "; every node showed it " + (seen - answered) + " ms after the rotate command returned");

        assertTrue(SClient.resumes(cluster.member(2).tlsPort(), "localhost", SClient.Kind.TLS13_TICKET, ticket),
                "a ticket from the previous generation resumes on another node");

        Cli.Result table = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "tickets", "show");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().contains("Rotation interval: 12h"), table.out());
        assertEquals(3, table.out().lines().filter(l -> l.startsWith("127.0.0.1:")).count(), table.out());
        Cli.Result again = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "tickets", "rotate");
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals("ticket keys rotated: generation " + (generation + 1) + " is current", again.out().strip());
        awaitSameGeneration(generation + 1, Duration.ofSeconds(10));
    }

    @Test
    void aBadTokenChangesNothingAndExitsOne() throws Exception {
        long before = awaitSameGeneration(0, Duration.ofSeconds(20));
        for (String command : List.of("show", "rotate")) {
            Cli.Result bad = Cli.against(management.get(0), "not-the-token-at-all-0000", "tickets", command);
            assertEquals(1, bad.exitCode(), bad.toString());
            assertTrue(bad.err().contains("401"), bad.err());
        }
        assertEquals(before, ticketKeys(management.get(1)).get("nodes").get(0).get("current").asLong());
        Cli.Result unknown = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "tickets", "spin");
        assertEquals(2, unknown.exitCode(), unknown.toString());
        assertTrue(unknown.err().contains("Usage: actortls tickets"), unknown.err());
    }

    /** Polls GET /tickets on every node until all three show the same generation (at least {@code atLeast}). */
    private long awaitSameGeneration(long atLeast, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            List<Long> generations = new ArrayList<>();
            for (String node : management) {
                JsonNode answer = ticketKeys(node);
                last = answer.toString();
                for (JsonNode n : answer.get("nodes")) generations.add(n.get("current").asLong());
            }
            if (generations.size() == 9 && generations.stream().distinct().count() == 1 && generations.getFirst() >= Math.max(1, atLeast))
                return generations.getFirst();
            Thread.sleep(50);
        }
        throw new AssertionError("the nodes did not all show ticket generation " + atLeast + " within " + timeout + ": " + last);
    }

    private JsonNode ticketKeys(String node) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://" + node + "/tickets"))
                .header("Authorization", "Bearer " + Hocon.MANAGEMENT_TOKEN).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return json.readTree(response.body());
    }
}
