package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls sessions stats|lookup|flush} against a live 3-node cluster, one-shot and --json: a TLS 1.2
 * session made on node 1 and resumed on nodes 2 and 3 shows up in the hit counts, is found by a prefix of its ID
 * on every node (with no secret in the output), and after a flush resumes on no node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SessionCommandsShowLookUpAndFlushTheClusterCacheTest {
    @TempDir
    static Path dir;
    private BackendProcess backend;
    private TestCluster cluster;
    private final List<String> management = new ArrayList<>();
    private Path session;
    private String sessionId;
    private String masterKey;

    @BeforeAll
    void startCluster() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 3, (i, hocon) -> {
            management.add(hocon.management());
            return hocon.vhost("localhost", cert, List.of("localhost"), List.of(), backend.address())
                    .defaultVhost("localhost").with("sessions.fetch-timeout = 2s").render();
        });
        session = dir.resolve("session.pem");
        SClient.newSession(cluster.member(1).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session);
        Run text = Run.of(List.of("openssl", "sess_id", "-in", session.toString(), "-noout", "-text"), null, Duration.ofSeconds(10));
        sessionId = field(text.out(), "Session-ID").toLowerCase(Locale.ROOT);
        masterKey = field(text.out(), "Master-Key").toLowerCase(Locale.ROOT);
        assertEquals(64, sessionId.length(), text.out());
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    @Order(1)
    void statsShowEveryNodeAndTheClusterSumWithTheResumptions() {
        for (int node = 2; node <= 3; node++)
            assertTrue(SClient.resumes(cluster.member(node).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                    "node " + node + " did not resume node 1's session");
        Cli.Result json = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "sessions", "stats", "--json");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode nodes = json.json().get("nodes");
        assertEquals(3, nodes.size(), json.out());
        assertTrue(json.json().get("missing").isEmpty(), json.out());
        long hits = 0;
        for (JsonNode n : nodes) {
            hits += n.get("hits").asLong();
            assertTrue(n.get("cached").asLong() >= 1, "every node holds the session: " + n);
        }
        JsonNode sum = json.json().get("cluster");
        assertEquals("cluster", sum.get("node").asText());
        assertEquals(hits, sum.get("hits").asLong(), json.out());
        assertTrue(sum.get("hits").asLong() >= 2, "two resumptions: " + sum);
        assertTrue(sum.get("resumedRemote").asLong() >= 2, "both on other nodes than the session's: " + sum);
        assertTrue(sum.get("stored").asLong() >= 1, sum.toString());

        Cli.Result table = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "stats");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().startsWith("NODE"), table.out());
        assertEquals(5, table.out().lines().count(), "header, three nodes, the cluster sum:\n" + table.out());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("cluster ")), table.out());
    }

    @Test
    @Order(2)
    void lookupFindsTheSessionByAPrefixOfItsIdOnEveryNodeWithoutItsSecrets() {
        Cli.Result json = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup",
                sessionId.substring(0, 8).toUpperCase(Locale.ROOT), "--json");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode found = json.json().get("sessions");
        assertEquals(1, found.size(), json.out());
        JsonNode s = found.get(0);
        assertEquals(sessionId, s.get("id").asText());
        assertEquals("localhost", s.get("vhost").asText());
        assertEquals("TLSv1.2", s.get("protocol").asText());
        assertEquals("tls1.2-session-id", s.get("kind").asText());
        assertEquals("127.0.0.1:" + cluster.member(1).clusterPort(), s.get("origin").asText());
        assertEquals(3, s.get("heldBy").size(), "every node's cache holds it: " + s);
        assertNotNull(s.get("expires").asText());
        assertFalse(json.out().toLowerCase(Locale.ROOT).contains(masterKey), "the master key must never be shown");
        assertFalse(json.out().toLowerCase(Locale.ROOT).contains("master"), json.out());

        Cli.Result table = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup", sessionId.substring(0, 6));
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().contains(sessionId) && table.out().contains("tls1.2-session-id"), table.out());
        assertFalse(table.out().toLowerCase(Locale.ROOT).contains(masterKey), table.out());

        Cli.Result none = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup",
                sessionId.startsWith("0000") ? "ffff" : "0000", "--json");
        assertEquals(0, none.exitCode(), none.toString());
        assertTrue(none.json().get("sessions").isEmpty(), none.out());
    }

    @Test
    @Order(3)
    void lookupRefusesShortOrNonHexPrefixesAndABadTokenExitsOne() {
        Cli.Result shortPrefix = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup", "abc");
        assertEquals(1, shortPrefix.exitCode(), shortPrefix.toString());
        assertTrue(shortPrefix.err().contains("prefix must be 4 to 64 hex digits") && shortPrefix.err().contains("(400)"),
                shortPrefix.err());
        Cli.Result notHex = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup", "zzzzzz");
        assertEquals(1, notHex.exitCode(), notHex.toString());

        Cli.Result missing = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup");
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("Usage: actortls sessions lookup"), missing.err());

        Cli.Result badToken = Cli.against(management.get(1), "not-the-token-at-all-0000", "sessions", "flush");
        assertEquals(1, badToken.exitCode(), badToken.toString());
        assertTrue(badToken.err().contains("401"), badToken.err());
        assertTrue(SClient.resumes(cluster.member(3).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                "a flush with a bad token must change nothing");
    }

    @Test
    @Order(4)
    void flushEndsResumptionOnEveryNode() {
        Cli.Result json = Cli.against(management.get(1), Hocon.MANAGEMENT_TOKEN, "sessions", "flush", "--json");
        assertEquals(0, json.exitCode(), json.toString());
        assertTrue(json.json().get("flushed").asLong() >= 1, json.out());
        assertEquals(3, json.json().get("nodes").size(), json.out());
        // Every node answered. What each one counts as revoked by itself may be 0: another node's flush can reach
        // its cache first. That nothing resumes anywhere is the proof.
        assertEquals(0, json.json().get("missing").size(), json.out());
        for (int node = 1; node <= 3; node++)
            assertFalse(SClient.resumes(cluster.member(node).tlsPort(), "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                    "node " + node + " still resumes a flushed session");
        Cli.Result lookup = Cli.against(management.get(0), Hocon.MANAGEMENT_TOKEN, "sessions", "lookup", sessionId.substring(0, 8), "--json");
        assertTrue(lookup.json().get("sessions").isEmpty(), lookup.out());

        // The full handshakes just made new sessions; the table form flushes them too.
        Cli.Result table = Cli.against(management.get(2), Hocon.MANAGEMENT_TOKEN, "sessions", "flush");
        assertEquals(0, table.exitCode(), table.toString());
        assertTrue(table.out().startsWith("flushed "), table.out());
    }

    private static String field(String text, String name) {
        Matcher m = Pattern.compile("^\\s*" + name + ": ([0-9A-Fa-f]+)\\s*$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) throw new AssertionError("no " + name + " in:\n" + text);
        return m.group(1);
    }
}
