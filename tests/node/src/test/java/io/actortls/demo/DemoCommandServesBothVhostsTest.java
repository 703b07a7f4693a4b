package io.actortls.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The README's main command, {@code ./actortls demo}, run from the repository's top directory as a process: both
 * demo vhosts answer curl with the demo backend's response, and SIGTERM stops the node and its backend child.
 * It uses the demo's fixed port 8443, so it is skipped when that port is taken.
 */
@Tag("fixed-ports") // 8443.., 25520.., 7626..: run alone (see tests/node/pom.xml)
class DemoCommandServesBothVhostsTest {
    private static final int DEMO_PORT = 8443;
    /** Includes a first build by the launcher when the jar is older than the sources. */
    private static final Duration READY_BOUND = Duration.ofSeconds(120);
    private static final Duration STOP_BOUND = Duration.ofSeconds(30);

    @Test
    void curlReachesTheBackendThroughBothVhostsAndSigtermStopsEverything() throws Exception {
        Assumptions.assumeTrue(Tools.canBind(DEMO_PORT),
                "skipped: 127.0.0.1:" + DEMO_PORT + " is taken, and `actortls demo` always listens there");
        List<ProcessHandle> children = new ArrayList<>();
        try (NodeProcess demo = NodeProcess.launch("demo")) { // close() kills what a failed assertion leaves behind
            demo.awaitReady(READY_BOUND);
            children.addAll(demo.handle().descendants().toList());
            assertTrue(children.stream().anyMatch(DemoCommandServesBothVhostsTest::isDemoBackend),
                    "the demo backend runs as a child of the node: " + describe(children) + "\n" + demo.output());
            assertTrue(Files.isRegularFile(Tools.top().resolve(".actortls/ca.crt")), "the demo CA is made on first run");

            Run localhost = curl("https://localhost:" + DEMO_PORT + "/");
            assertEquals(0, localhost.exitCode(), localhost.all() + "\n" + demo.output());
            assertTrue(localhost.out().contains("\n200\n"), localhost.all());
            assertTrue(localhost.out().startsWith("Hello from backend-1"), "the demo backend's body\n" + localhost.all());
            assertTrue(localhost.out().contains("Subject:CN = localhost"), localhost.all());
            assertTrue(localhost.out().contains("Public Key Algorithm:id-ecPublicKey"), localhost.all());

            Run rsa = curl("--resolve", "rsa.localhost:" + DEMO_PORT + ":127.0.0.1", "https://rsa.localhost:" + DEMO_PORT + "/");
            assertEquals(0, rsa.exitCode(), rsa.all() + "\n" + demo.output());
            assertTrue(rsa.out().contains("\n200\n"), rsa.all());
            assertTrue(rsa.out().startsWith("Hello from backend-1"), rsa.all());
            assertTrue(rsa.out().contains("Subject:CN = rsa.localhost"), rsa.all());
            assertTrue(rsa.out().contains("Public Key Algorithm:rsaEncryption"), "an RSA certificate\n" + rsa.all());
            assertTrue(rsa.out().contains("RSA Public Key:2048"), rsa.all());

            int status = demo.stop(STOP_BOUND); // SIGTERM
            assertTrue(status == 0 || status == 128 + 15, "exit status " + status + "\n" + demo.output());
            for (ProcessHandle child : children) {
                boolean gone = !child.isAlive() || waitForExit(child, STOP_BOUND);
                assertTrue(gone, "child " + describe(List.of(child)) + " outlived the node\n" + demo.output());
            }
            assertFalse(Tools.isListening(DEMO_PORT), "nothing listens on " + DEMO_PORT + " after the stop");
        } finally {
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
    }

    /** The README's curl command, plus the status and the server's certificate (curl 7.88's %{certs}). */
    private static Run curl(String... args) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert", ".actortls/ca.crt",
                "-w", "\n%{http_code}\n%{certs}"));
        command.addAll(List.of(args));
        return Run.of(command, null, Duration.ofSeconds(30), Tools.top(), Map.of());
    }

    private static boolean isDemoBackend(ProcessHandle process) {
        return process.info().arguments().map(a -> List.of(a).contains("demo-backend")).orElse(false);
    }

    private static boolean waitForExit(ProcessHandle process, Duration bound) {
        try {
            process.onExit().get(bound.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return !process.isAlive();
        }
    }

    private static String describe(List<ProcessHandle> processes) {
        return processes.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList().toString();
    }
}
