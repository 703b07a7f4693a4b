package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.Cli;
import io.actortls.testkit.DemoBackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Bad command lines (an unknown command, an unknown option, a missing or bad value) exit 2 with a message naming
 * the problem and the usage, before anything is called or started: the management commands against a real node
 * change nothing there (not even those that would drain, rotate, flush or reweigh), and the commands that run
 * nodes start nothing and write nothing in their directory.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RejectsBadArgumentsWithExitTwoAndChangesNothingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private TestCluster cluster;
    private final List<DemoBackendProcess> backends = new ArrayList<>();
    private String management;
    private ManagementApi api;
    private Map<String, String> before;

    @BeforeAll
    void startNode() throws Exception {
        TestPki.Cert cert = new TestPki(dir).issue("demo", TestPki.KeyType.EC_P256, "demo.test");
        for (int i = 1; i <= 2; i++) backends.add(DemoBackendProcess.start("backend-" + i));
        cluster = TestCluster.start(dir, 1, (i, hocon) -> {
            management = hocon.management();
            return hocon.pooledVhost("demo", cert, List.of("demo.test"), "demo")
                    .pool("demo", backends.stream().map(b -> b.server(1)).toList()).render();
        });
        api = new ManagementApi(management);
        // The first ticket keys are made just after the cluster forms: a rotation the test did not ask for.
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (JSON.readTree(api.get("/tickets")).path("nodes").path(0).path("current").asLong() < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("no ticket keys within 30 s");
            Thread.sleep(100);
        }
        before = state();
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        backends.forEach(DemoBackendProcess::close);
    }

    /** Each case: the arguments | what the message must say | the usage it must print. */
    @ParameterizedTest(name = "actortls {0}")
    @Order(1)
    @CsvSource(delimiter = '|', value = {
            "frobnicate | Unmatched argument at index 0: 'frobnicate' | Usage: actortls ",
            "pools explode | Unmatched argument at index 1: 'explode' | Usage: actortls pools ",
            "cluster show --frobnicate | Unknown option: '--frobnicate' | Usage: actortls cluster show ",
            "server drain demo backend-1 --force | Unknown option: '--force' | Usage: actortls server drain ",
            "sessions flush --everything | Unknown option: '--everything' | Usage: actortls sessions flush ",
            "tickets rotate now | Unmatched argument at index 2: 'now' | Usage: actortls tickets rotate ",
            "node drain 127.0.0.1:1 extra | Unmatched argument at index 3: 'extra' | Usage: actortls node drain ",
            "server weight demo backend-1 -3 | (W): must be 1-1000, not -3 | Usage: actortls server weight ",
            "server weight demo backend-1 abc | (W): 'abc' is not a whole number | Usage: actortls server weight ",
            "server weight demo | Missing required parameters: 'NAME', 'W' | Usage: actortls server weight ",
            "server add demo evil 127.0.0.1:abc | (HOST:PORT): must be host:port with a port 1-65535, not 127.0.0.1:abc | Usage: actortls server add ",
            "server add demo evil 127.0.0.1:1 --weight 5000 | option '--weight': must be 1-1000, not 5000 | Usage: actortls server add ",
            "server add demo evil 127.0.0.1:1 --max-connections -1 | option '--max-connections': must be at least 0, not -1 | Usage: actortls server add ",
            "connections top -n 0 | option '-n': must be at least 1, not 0 | Usage: actortls connections top ",
            "log peek -n many | option '-n': 'many' is not a whole number | Usage: actortls log peek "})
    void managementCommands(String args, String message, String usage) {
        Cli.Result result = Cli.against(management, Hocon.MANAGEMENT_TOKEN, args.split(" "));
        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("actortls: ") && result.err().contains(message), result.toString());
        assertTrue(result.err().contains(usage), result.toString());
    }

    /** A --node that is not host:port is refused before any call (the token is right, the port is not a port). */
    @Test
    @Order(1)
    void aNodeAddressWithoutAPort() {
        Cli.Result result = Cli.run(null, Map.of("ACTORTLS_MANAGEMENT_TOKEN", Hocon.MANAGEMENT_TOKEN), null,
                "--node", "127.0.0.1:abc", "server", "disable", "demo", "backend-1");
        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("actortls: --node must be host:port, not 127.0.0.1:abc"), result.toString());
    }

    @ParameterizedTest(name = "actortls {0}")
    @Order(1)
    @CsvSource(delimiter = '|', value = {
            "node --bogus | unknown argument for node: --bogus",
            "node --config | --config needs a value",
            "node --seed | --seed needs a value",
            "local-cluster --nodes abc | --nodes must be between 1 and 20, not abc",
            "local-cluster --algorithm | --algorithm needs a value",
            "cluster-certs --nodes 0 | --nodes must be 1-99, not 0",
            "demo --backend | --backend needs HOST:PORT",
            "demo-backend --port abc | demo-backend needs --port N (1-65535)"})
    void commandsThatRunNodesStartNothing(String args, String message) throws Exception {
        Path workDir = Files.createTempDirectory(dir, "work-");
        Cli.Result result = Cli.run(workDir, Map.of(), null, args.split(" "));
        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.err().contains("actortls: " + message), result.toString());
        assertTrue(result.err().contains("usage: actortls node"), result.toString());
        try (Stream<Path> written = Files.list(workDir)) {
            assertEquals(List.of(), written.toList(), "nothing is written (no .actortls/ with certificates or tokens)");
        }
    }

    @Test
    @Order(2)
    void nothingChangedOnTheNode() throws Exception {
        assertEquals(before, state());
    }

    /** What the commands above could have changed: members, servers, ticket keys, sessions, log level. */
    private Map<String, String> state() throws Exception {
        Map<String, String> state = new LinkedHashMap<>();
        List<String> members = new ArrayList<>();
        JSON.readTree(api.get("/cluster")).path("members").forEach(m ->
                members.add(m.path("address").asText() + " " + m.path("status").asText()));
        state.put("members", members.toString());
        List<String> servers = new ArrayList<>();
        for (JsonNode s : JSON.readTree(api.get("/pools/demo")).path("servers"))
            servers.add(s.path("name").asText() + " " + s.path("address").asText() + " " + s.path("weight").asText() + " "
                    + s.path("maxConnections").asText() + " " + s.path("admin").asText());
        state.put("servers", servers.toString());
        state.put("ticket keys", JSON.readTree(api.get("/tickets")).path("nodes").findValuesAsText("current").toString());
        JsonNode sessions = JSON.readTree(api.get("/sessions/stats")).path("cluster");
        state.put("sessions", sessions.path("cached").asText() + " cached, " + sessions.path("removals").asText() + " removed");
        state.put("log level", JSON.readTree(api.get("/log/level")).path("level").asText());
        state.put("certificates", JSON.readTree(api.get("/certs")).findValuesAsText("serial").toString());
        assertTrue(servers.size() == 2 && members.size() == 1, state.toString());
        return state;
    }
}
