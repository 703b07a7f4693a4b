package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClientProcess;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 10 MiB through the node in each direction, byte for byte, checked with SHA-256. */
class Moves10MiBEachWayWithChecksumsTest {
    private static final int TEN_MIB = 10 * 1024 * 1024;
    private static final Duration TRANSFER_BOUND = Duration.ofSeconds(60);

    @TempDir
    static Path dir;

    static TestPki pki;
    static BackendProcess backend;
    static NodeProcess node;
    static int port;

    @BeforeAll
    static void startNode() {
        pki = new TestPki(dir);
        port = Tools.freePort();
        backend = BackendProcess.start();
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                        List.of("localhost"), List.of(), backend.address())
                .render());
    }

    @AfterAll
    static void stopNode() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void randomBytesEchoedThroughTheBackendComeBackIdentical() throws Exception {
        byte[] payload = new byte[TEN_MIB];
        new Random(20251121).nextBytes(payload);
        payload[0] = 0; // the backend echoes whatever does not start like an HTTP request
        int before = node.closes().size();

        // -quiet: stdout carries exactly the application data received.
        try (ClientProcess client = ClientProcess.start(SClient.command(port, "-servername", "localhost", "-quiet", "-nocommands"))) {
            CompletableFuture<Void> sent = client.sendInBackground(payload);
            byte[] echoed = client.readExactly(TEN_MIB, TRANSFER_BOUND);
            sent.get(10, TimeUnit.SECONDS);
            assertEquals(sha256(payload), sha256(echoed), "the echo must be the payload, byte for byte");
        }

        JsonNode close = node.awaitCloses(before + 1, Duration.ofSeconds(15)).get(before);
        assertEquals(TEN_MIB, close.path("backend_bytes_out").asLong(), close.toString());
        assertEquals(TEN_MIB, close.path("backend_bytes_in").asLong(), close.toString());
    }

    @Test
    void downloadEqualsTheBackendsOwnResponse() {
        String path = "/" + TEN_MIB;
        Curl.Response direct = Curl.plainGet(backend.port(), path);
        assertEquals(200, direct.status(), direct.describe());
        assertEquals(TEN_MIB, direct.body().length, direct.describe());

        Curl.Response viaNode = Curl.get(pki.caCertificate(), "localhost", port, path);
        assertEquals(0, viaNode.exitCode(), viaNode.describe());
        assertEquals(200, viaNode.status(), viaNode.describe());
        assertEquals(TEN_MIB, viaNode.body().length, viaNode.describe());
        assertEquals(sha256(direct.body()), sha256(viaNode.body()));
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
