package io.actortls.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClientProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS features that replay or re-key a connection under an attacker's control stay off: 0-RTT early data (a
 * replayable request) is never accepted, client-initiated TLS 1.2 renegotiation is refused, while a TLS 1.3 key
 * update, which changes nothing but the traffic keys, keeps the connection going.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusesEarlyDataAndRenegotiationTest {
    private static final byte[] REQUEST = "GET /16 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dir;

    private BackendProcess backend;
    private NodeProcess node;
    private TestPki.Cert cert;
    private int port;

    @BeforeAll
    void startNode() {
        backend = BackendProcess.start();
        port = Tools.freePort();
        cert = new TestPki(dir).issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        node = NodeProcess.startReady(dir, new Hocon(port).vhost("localhost", cert, List.of("localhost"), List.of(),
                backend.address()).render());
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void advertisesNoEarlyDataInItsTickets() throws Exception {
        Path session = dir.resolve("actortls-session.pem");
        SClient.newSession(port, "localhost", SClient.Kind.TLS13_TICKET, session);
        String text = sessionText(session);
        assertTrue(text.contains("Max Early Data: 0"), text);
    }

    /**
     * The client holds a session from a server that allows 0-RTT (openssl s_server -early_data, same certificate and
     * name), so it does send its request as early data. ActorTls must reject it: the client sees "Early data was
     * rejected", and no response comes back, because the backend never got the request.
     */
    @Test
    void rejectsEarlyDataAClientSendsAnyway() throws Exception {
        Path session = dir.resolve("early-data-session.pem");
        SClient.newSessionAllowingEarlyData(cert, "localhost", session);
        assertFalse(sessionText(session).contains("Max Early Data: 0"), "s_server must allow early data for this test");

        Path early = dir.resolve("early-request.txt");
        Files.write(early, REQUEST);
        int before = node.closes().size();
        Run run = Run.of(SClient.command(port, "-servername", "localhost", "-tls1_3", "-sess_in", session.toString(),
                "-early_data", early.toString()), new byte[0], Duration.ofSeconds(20));
        assertTrue(run.out().contains("Early data was rejected"), run.all());
        assertFalse(run.out().contains("HTTP/1.1 200"), run.all());
        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertEquals(0, close.path("backend_bytes_out").asLong(), close.toString());
    }

    @Test
    void refusesClientInitiatedRenegotiationAndServesTheNextClient() {
        int before = node.closes().size();
        String output = interactive("-tls1_2", "R\n");
        assertTrue(output.contains("RENEGOTIATING"), output);
        assertTrue(output.contains("no renegotiation"), output);
        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(10)).get(before);
        assertTrue(List.of("protocol-error", "client-closed").contains(close.path("reason").asText()), close.toString());

        SClient.Result next = SClient.handshake(port, "-servername", "localhost", "-tls1_2");
        assertEquals(0, next.run().exitCode(), next.text());
    }

    @Test
    void keepsTheConnectionThroughATls13KeyUpdate() {
        String output = interactive("-tls1_3", "k\n", new String(REQUEST, StandardCharsets.US_ASCII));
        assertTrue(output.contains("KEYUPDATE"), output);
        assertTrue(output.contains("HTTP/1.1 200"), output);
    }

    /**
     * s_client with its command letters on: the handshake first, then each input in a read of its own (s_client
     * takes a command letter from the start of a read and drops the rest of it), then a wait for the end.
     */
    private String interactive(String version, String... inputs) {
        List<String> command = new ArrayList<>(SClient.command(port, "-servername", "localhost", version));
        try (ClientProcess client = ClientProcess.start(command)) {
            byte[] greeting = client.readUntil("---\n", Duration.ofSeconds(10));
            for (String input : inputs) {
                client.send(input.getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(300);
            }
            byte[] rest = client.readToEnd(Duration.ofSeconds(10));
            client.awaitExit(Duration.ofSeconds(5));
            return new String(greeting, StandardCharsets.UTF_8) + new String(rest, StandardCharsets.UTF_8) + client.stderr();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String sessionText(Path session) throws Exception {
        return Run.of(List.of("openssl", "sess_id", "-in", session.toString(), "-noout", "-text"), new byte[0],
                Duration.ofSeconds(10)).all();
    }
}
