package io.actortls.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Cli;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.SClient;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The local-cluster contract: `./actortls local-cluster --nodes 3` runs three node processes on 127.0.0.1:8443..8445
 * that form one cluster in front of the demo backend; a session made on node 1 resumes on nodes 2 and 3; the CLI
 * finds the cluster without being told (node 1's management API on 127.0.0.1:7626, the token local-cluster wrote);
 * SIGTERM stops every process it started.
 */
@Tag("fixed-ports") // 8443.., 25520.., 7626..: run alone (see tests/node/pom.xml)
class LocalClusterCommandResumesAcrossItsNodesTest {
    private static final List<Integer> PORTS = List.of(8443, 8444, 8445, 25520, 25521, 25522, 7626, 7627, 7628);

    @Test
    void threeNodeProcessesFormOneClusterAndResumeEachOthersSessions() throws Exception {
        Assumptions.assumeTrue(PORTS.stream().allMatch(Tools::canBind),
                "skipped: one of " + PORTS + " is taken, and `actortls local-cluster` always uses them");
        try (NodeProcess cluster = NodeProcess.launch("local-cluster", "--nodes", "3")) {
            for (int node = 1; node <= 3; node++) {
                String prefix = "[node-" + node + "] ";
                cluster.awaitLog(line -> line.startsWith(prefix) && line.contains("members up: 3"), Duration.ofSeconds(120),
                        "node " + node + " to see three members up");
            }
            List<ProcessHandle> children = new ArrayList<>(cluster.handle().descendants().toList());
            assertTrue(children.size() >= 6, "three nodes and three backends: " + children);

            Path session = Files.createTempFile("local-cluster-", ".pem");
            try {
                SClient.newSession(8443, "localhost", SClient.Kind.TLS12_SESSION_ID, session, "/");
                for (int port : List.of(8444, 8445))
                    assertTrue(SClient.resumes(port, "localhost", SClient.Kind.TLS12_SESSION_ID, session),
                            "a session from node 1 did not resume on 127.0.0.1:" + port);
            } finally {
                Files.deleteIfExists(session);
            }

            // No --node, no --token: from the project directory, as a person would after starting the cluster.
            Cli.Result nodes = Cli.run(Tools.top(), Map.of(), null, "nodes", "--json");
            assertEquals(0, nodes.exitCode(), nodes.toString());
            List<String> management = new ArrayList<>();
            nodes.json().get("nodes").forEach(n -> management.add(n.get("reply").get("management").asText()));
            assertEquals(List.of("127.0.0.1:7626", "127.0.0.1:7627", "127.0.0.1:7628"), management, nodes.out());

            cluster.stop(Duration.ofSeconds(60)); // SIGTERM
            for (ProcessHandle child : children) {
                if (child.isAlive()) child.onExit().get(30, TimeUnit.SECONDS);
                assertTrue(!child.isAlive(), "still running after SIGTERM: " + child.info().commandLine().orElse("?"));
            }
        }
    }
}
