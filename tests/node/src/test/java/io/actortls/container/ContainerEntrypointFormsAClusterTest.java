package io.actortls.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.Curl;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the container image does, as processes (this machine has no container engine): docker/entrypoint.sh makes
 * the certificates once (certs), runs two demo backends and three nodes configured only through the environment the
 * compose file sets (secrets as files), and they form one cluster that serves TLS; the image's HEALTHCHECK command
 * passes against a node and fails where no node is; the CLI through the entrypoint sees the cluster with the token
 * from the secret file; SIGTERM stops each node with exit code 0.
 */
class ContainerEntrypointFormsAClusterTest {
    private static final Path ENTRYPOINT = Tools.top().resolve("docker/entrypoint.sh");

    @TempDir
    Path dir;
    private final List<NodeProcess> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.reversed().forEach(NodeProcess::close);
    }

    @Test
    void entrypointRunsCertsBackendsAndNodesThatFormAClusterAndServeTls() throws Exception {
        Path certs = dir.resolve("certs");
        Run made = entrypoint(Map.of(), "certs", certs.toString());
        assertEquals(0, made.exitCode(), made.all());
        for (String file : List.of("cluster/node-1.p12", "cluster/truststore.p12", "cluster/password", "site.crt",
                "site.key", "management.token"))
            assertTrue(Files.isRegularFile(certs.resolve(file)), file + " was not made:\n" + made.all());
        String token = Files.readString(certs.resolve("management.token")).trim();

        List<String> backends = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
            int port = Tools.freePort();
            NodeProcess backend = start(Map.of("ACTORTLS_BACKEND_NAME", "backend-" + i, "ACTORTLS_BACKEND_PORT",
                    Integer.toString(port), "ACTORTLS_BACKEND_HOST", "127.0.0.1"), "demo-backend");
            backend.awaitLog(l -> l.contains("listening on 127.0.0.1:" + port), Duration.ofSeconds(30), "backend-" + i);
            backends.add("127.0.0.1:" + port);
        }

        // The compose file's environment, with 127.0.0.1 and free ports where containers have their own addresses.
        int seedPort = Tools.freePort();
        Map<String, String> common = new HashMap<>(Map.of(
                "ACTORTLS_SEED_NODES", "127.0.0.1:" + seedPort,
                "ACTORTLS_BACKENDS", String.join(",", backends),
                "ACTORTLS_SERVER_NAMES", "localhost,actortls.local",
                "ACTORTLS_TLS_CERTIFICATE", certs.resolve("site.crt").toString(),
                "ACTORTLS_TLS_KEY", certs.resolve("site.key").toString(),
                "ACTORTLS_CLUSTER_KEY_STORE", certs.resolve("cluster/node-1.p12").toString(),
                "ACTORTLS_CLUSTER_TRUST_STORE", certs.resolve("cluster/truststore.p12").toString(),
                "ACTORTLS_CLUSTER_PASSWORD_FILE", certs.resolve("cluster/password").toString(),
                "ACTORTLS_MANAGEMENT_TOKEN_FILE", certs.resolve("management.token").toString(),
                "ACTORTLS_LOG_FORMAT", "json"));
        common.putAll(Map.of("ACTORTLS_CLUSTER_HOST", "127.0.0.1", "ACTORTLS_HOST", "127.0.0.1",
                "ACTORTLS_MANAGEMENT_HOST", "127.0.0.1", "ACTORTLS_DRAIN_DEADLINE", "5s"));
        List<NodeProcess> nodes = new ArrayList<>();
        List<Integer> tlsPorts = new ArrayList<>();
        List<Integer> managementPorts = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            Map<String, String> env = new HashMap<>(common);
            tlsPorts.add(Tools.freePort());
            managementPorts.add(Tools.freePort());
            env.put("ACTORTLS_PORT", tlsPorts.getLast().toString());
            env.put("ACTORTLS_CLUSTER_PORT", Integer.toString(i == 1 ? seedPort : Tools.freePort()));
            env.put("ACTORTLS_MANAGEMENT_PORT", managementPorts.getLast().toString());
            nodes.add(start(env, "node"));
        }
        for (NodeProcess node : nodes) node.awaitMembersUp(3, Duration.ofSeconds(90));

        Set<String> answered = new HashSet<>();
        for (int port : tlsPorts) {
            for (String name : List.of("localhost", "actortls.local")) {
                Curl.Response response = Curl.get(certs.resolve("site.crt"), name, port, "/");
                assertEquals(200, response.status(), response.describe());
                String body = new String(response.body(), StandardCharsets.UTF_8);
                assertTrue(body.startsWith("Hello from backend-"), body);
                answered.add(body.trim());
            }
        }
        assertEquals(2, answered.size(), "both backends answer: " + answered);

        Run healthy = entrypoint(Map.of("ACTORTLS_MANAGEMENT_PORT", managementPorts.getFirst().toString()), "healthcheck");
        assertEquals(0, healthy.exitCode(), healthy.all());
        Run nobody = entrypoint(Map.of("ACTORTLS_MANAGEMENT_PORT", Integer.toString(Tools.freePort())), "healthcheck");
        assertNotEquals(0, nobody.exitCode(), "the health check passed where no node runs");

        Run show = entrypoint(Map.of(), "cluster", "show", "--json", "--node", "127.0.0.1:" + managementPorts.get(1),
                "--token", token);
        assertEquals(0, show.exitCode(), show.all());
        JsonNode members = new ObjectMapper().readTree(show.out()).get("members");
        assertEquals(3, members.size(), show.out());
        members.forEach(m -> assertEquals("Up", m.get("status").asText(), show.out()));

        for (NodeProcess node : nodes.reversed()) assertEquals(0, node.stop(Duration.ofSeconds(30)), node.output());
    }

    private NodeProcess start(Map<String, String> env, String... args) {
        Map<String, String> all = new HashMap<>(env);
        all.putAll(javaEnvironment());
        List<String> command = new ArrayList<>(List.of(ENTRYPOINT.toString()));
        command.addAll(List.of(args));
        NodeProcess process = NodeProcess.run(dir, all, command);
        processes.add(process);
        return process;
    }

    private Run entrypoint(Map<String, String> env, String... args) {
        Map<String, String> all = new HashMap<>(env);
        all.putAll(javaEnvironment());
        List<String> command = new ArrayList<>(List.of(ENTRYPOINT.toString()));
        command.addAll(List.of(args));
        return Run.of(command, null, Duration.ofSeconds(90), dir, all);
    }

    /** The image's JRE and jars are this test's JVM and class path. */
    private static Map<String, String> javaEnvironment() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"),
                "ACTORTLS_CLASSPATH", System.getProperty("java.class.path"),
                "ACTORTLS_JAVA_OPTS", "-Xmx512m");
    }
}
