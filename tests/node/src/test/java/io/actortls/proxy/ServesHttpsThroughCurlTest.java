package io.actortls.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The smallest end-to-end path: curl → ActorTls (TLS 1.3 and 1.2) → the shared backend → back. */
class ServesHttpsThroughCurlTest {
    @TempDir
    Path dir;

    @Test
    void curlGetsTheBackendsResponseOverTls13AndTls12() {
        TestPki pki = new TestPki(dir);
        TestPki.Cert cert = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        int port = Tools.freePort();
        try (BackendProcess backend = BackendProcess.start();
             NodeProcess node = NodeProcess.startReady(dir, new Hocon(port)
                     .vhost("localhost", cert, List.of("localhost"), List.of("http/1.1"), backend.address()).render())) {
            for (String version : List.of("--tlsv1.3", "--tls-max 1.2")) {
                List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--cacert", pki.caCertificate().toString(),
                        "--resolve", "localhost:" + port + ":127.0.0.1", "-w", "\n%{http_code} %{ssl_verify_result}"));
                command.addAll(List.of(version.split(" ")));
                command.add("https://localhost:" + port + "/1000");
                Run run = Run.of(command, null, Duration.ofSeconds(20));
                assertEquals(0, run.exitCode(), run.all() + node.output());
                assertTrue(run.out().endsWith("\n200 0"), run.all());
                assertEquals(1000 + "\n200 0".length(), run.out().length(), "1000-byte body expected");
            }
            var closes = node.awaitCloses("client-closed", 2, Duration.ofSeconds(10));
            assertEquals(List.of("TLSv1.3", "TLSv1.2"), closes.stream().map(c -> c.path("protocol").asText()).toList());
        }
    }
}
