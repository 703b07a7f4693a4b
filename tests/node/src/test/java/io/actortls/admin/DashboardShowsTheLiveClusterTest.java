package io.actortls.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.demo.LocalClusterOnPorts;
import io.actortls.testkit.Cli;
import io.actortls.testkit.Curl;
import io.actortls.testkit.HeadlessChromium;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in headless Chromium against {@code actortls local-cluster --nodes 3} (on free ports): a wrong
 * token is refused and the page holds no data; with the token from {@code actortls token} it shows the 3 members
 * and the demo pool's 3 servers, its figures move while curl clients make connections, and draining a server from
 * the page (confirm accepted) is what the CLI's {@code pools show} then reports, with the action in the audit log
 * under the token's id (never the token); so is a weight changed from the page, and a ticket-key rotation from the
 * page reaches every node. A screenshot of the loaded page is saved to {@code target/dashboard.png}
 * (and a phone-sized one to {@code target/dashboard-phone.png}).
 */
class DashboardShowsTheLiveClusterTest {
    private static final int NODES = 3;
    private static final Duration UP = Duration.ofSeconds(120);
    private static final Duration SHOWN = Duration.ofSeconds(30);
    private static final List<String> SERVERS = List.of("backend-1", "backend-2", "backend-3");

    @TempDir
    Path work;
    @TempDir
    Path browserDir;
    private NodeProcess cluster;
    private HeadlessChromium browser;
    private final AtomicBoolean loadRunning = new AtomicBoolean();
    private Thread load;

    @AfterEach
    void stop() throws InterruptedException {
        loadRunning.set(false);
        if (load != null) load.join(60_000);
        if (browser != null) browser.close();
        if (cluster != null) {
            List<ProcessHandle> children = cluster.handle().descendants().toList();
            try {
                cluster.close();
            } finally {
                for (ProcessHandle child : children) {
                    child.destroyForcibly();
                    child.onExit().completeOnTimeout(child, 10, TimeUnit.SECONDS).join();
                }
            }
        }
    }

    @Test
    void showsMembersPoolsAndMovingFiguresDrainsFromThePageAndRefusesAWrongToken() throws Exception {
        long startedAt = System.nanoTime();
        int firstPort = consecutiveFreePorts();
        int firstTls = firstPort, firstCluster = firstPort + NODES, firstManagement = firstPort + 2 * NODES;
        cluster = startLocalCluster(firstTls, firstCluster, firstManagement);
        String dashboard = "http://127.0.0.1:" + firstManagement + "/";
        assertTrue(cluster.output().contains("dashboard: " + dashboard), "local-cluster prints the dashboard's address:\n"
                + cluster.output());
        String token = Files.readString(work.resolve(".actortls/management.token")).strip();
        Cli.Result printed = Cli.run(work, Map.of(), null, "token");
        assertEquals(0, printed.exitCode(), printed.toString());
        assertEquals(token, printed.out().strip(), "actortls token prints the local cluster's token");
        List<String> memberNodes = new ArrayList<>();
        for (int i = 0; i < NODES; i++) memberNodes.add("127.0.0.1:" + (firstCluster + i));

        browser = new HeadlessChromium(browserDir.resolve("profile"), 1280, 1600);

        // A wrong token: a refusal, and nothing of the cluster in the page, even after a few polls' time.
        browser.open(dashboard);
        browser.type("#token", "not-the-token");
        browser.click("#login button[type=submit]");
        browser.await("return document.getElementById('refusal').hidden ? '' : document.getElementById('refusal').textContent",
                text -> text.asText().contains("wrong token"), SHOWN, "a refusal of the wrong token");
        Thread.sleep(3000);
        String refusedPage = browser.script("return document.documentElement.outerHTML").asText();
        for (String leak : concat(memberNodes, SERVERS, List.of("demo")))
            assertFalse(refusedPage.contains(leak), "the refused page shows " + leak + ":\n" + refusedPage);
        assertTrue(browser.script("return document.getElementById('dashboard').hidden").asBoolean());

        // The token: 3 members up, the demo pool's 3 servers.
        browser.type("#token", token);
        browser.click("#login button[type=submit]");
        JsonNode members = browser.await("return [...document.querySelectorAll('#members tr[data-member]')]"
                        + ".map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent)",
                rows -> rows.size() == NODES && every(rows, row -> row.endsWith(" Up")), UP,
                NODES + " members up");
        for (String node : memberNodes) assertTrue(members.toString().contains(node), members.toString());
        JsonNode servers = browser.await("return [...document.querySelectorAll('tr[data-server^=\"demo/\"]')]"
                + ".map(r => r.getAttribute('data-server'))", rows -> rows.size() == SERVERS.size(), SHOWN, "3 servers");
        assertEquals(SERVERS.stream().map(s -> "demo/" + s).toList(), List.of(
                servers.get(0).asText(), servers.get(1).asText(), servers.get(2).asText()));
        browser.await("return document.querySelectorAll('#members .tag').length", n -> n.asInt() >= 2, SHOWN,
                "the leader and the oldest member");

        // Load through every node: the figures move.
        long handshakesBefore = figure("handshakes-total");
        long acceptedBefore = figure("accepted");
        AtomicInteger served = startLoad(firstTls);
        browser.await("return document.querySelector('[data-figure=handshakes-total]').textContent",
                text -> leadingNumber(text.asText()) >= handshakesBefore + 30, SHOWN, "handshakes counted under load");
        browser.await("return document.querySelector('[data-figure=accepted]').textContent",
                text -> leadingNumber(text.asText()) >= acceptedBefore + 30, SHOWN, "connections counted under load");
        browser.await("return [...document.querySelectorAll('tr[data-server^=\"demo/\"] [data-field=share]')]"
                        + ".map(c => c.textContent)", shares -> shares.toString().chars().filter(c -> c == '%').count() == 3,
                SHOWN, "each server's share of new connections");
        browser.await("return document.querySelector('#nodes tfoot td:nth-child(2)').textContent",
                rate -> !rate.asText().equals("–") && Double.parseDouble(rate.asText()) > 0, SHOWN,
                "a cluster-wide rate of full handshakes above 0");
        browser.await("return document.querySelectorAll('#chart-handshakes polyline')[0].getAttribute('points').split(' ').length",
                points -> points.asInt() >= 3, SHOWN, "a handshake chart of several points");
        browser.screenshot(Path.of("target", "dashboard.png"));

        // Drain backend-2 from the page: the confirm() accepted, the CLI reports it draining.
        String before = serverState(token, firstManagement, "backend-2");
        assertEquals("enabled", before);
        browser.click("button[data-action=drain][data-server=\"demo/backend-2\"]");
        String question = browser.acceptDialog(Duration.ofSeconds(10));
        assertTrue(question.contains("backend-2"), question);
        long deadline = System.nanoTime() + SHOWN.toNanos();
        String after = before;
        while (System.nanoTime() < deadline && !(after = serverState(token, firstManagement, "backend-2")).equals("draining"))
            Thread.sleep(250);
        assertEquals("draining", after, "pools show after draining from the page");
        browser.await("return document.querySelector('tr[data-server=\"demo/backend-2\"] [data-field=state]').textContent",
                state -> state.asText().equals("draining"), SHOWN, "backend-2 draining");
        String tokenId = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(token.getBytes(StandardCharsets.UTF_8)), 0, 4);
        cluster.awaitLog(line -> line.contains("management call by token " + tokenId + " via dashboard: POST /pools/demo/servers/backend-2/drain"),
                SHOWN, "the drain in the audit log with the token's id");

        // A weight and a ticket-key rotation from the page.
        browser.click("button[data-action=weight][data-server=\"demo/backend-1\"]");
        assertTrue(browser.answerPrompt("4", Duration.ofSeconds(10)).contains("backend-1"));
        assertTrue(browser.acceptDialog(Duration.ofSeconds(10)).contains("to 4"));
        browser.await("return document.querySelector('tr[data-server=\"demo/backend-1\"] [data-field=weight]').textContent",
                weight -> weight.asText().equals("4"), SHOWN, "backend-1's new weight");
        assertEquals(4, server(token, firstManagement, "backend-1").path("weight").asInt(), "pools show after the weight change");
        String generations = "return [...document.querySelectorAll('#tickets tbody tr')].map(r => r.cells[1].textContent)";
        long generation = browser.script(generations).get(0).asLong();
        browser.click("#rotate");
        browser.acceptDialog(Duration.ofSeconds(10));
        browser.await(generations, shown -> shown.size() == NODES && every(shown, g -> g.equals(Long.toString(generation + 1))),
                SHOWN, "ticket-key generation " + (generation + 1) + " on every node");
        assertFalse(cluster.output().contains(token), "the token is in the nodes' output");

        // Still logged in after a reload (the token is kept in the browser session); readable at a phone's width.
        browser.open(dashboard);
        browser.await("return document.querySelectorAll('#members tr[data-member]').length", n -> n.asInt() == NODES,
                SHOWN, "the members again after a reload");
        browser.await("return document.querySelector('#nodes tfoot td:nth-child(2)').textContent",
                rate -> !rate.asText().equals("–"), SHOWN, "rates again after a reload");
        browser.resize(390, 844);
        browser.await("return document.documentElement.scrollWidth - window.innerWidth", overflow -> overflow.asInt() <= 1,
                SHOWN, "no page-wide horizontal scrolling at a phone's width");
        browser.screenshot(Path.of("target", "dashboard-phone.png"));

        loadRunning.set(false);
        load.join(60_000);
        assertTrue(served.get() > 0, "curl clients were served");
        System.out.printf("dashboard: %d curl connections served during the test; whole test %d ms; screenshots in "
                + "target/dashboard.png and target/dashboard-phone.png%n", served.get(), (System.nanoTime() - startedAt) / 1_000_000);
    }

    private long figure(String name) {
        return leadingNumber(browser.script("return document.querySelector('[data-figure=" + name + "]').textContent").asText());
    }

    private static long leadingNumber(String text) {
        String digits = text.strip().split("\\s+")[0];
        return digits.matches("[0-9]+") ? Long.parseLong(digits) : -1;
    }

    /** The server's admin state as {@code actortls pools show demo} reports it. */
    private static String serverState(String token, int managementPort, String server) {
        return server(token, managementPort, server).path("admin").asText();
    }

    /** The server as {@code actortls pools show demo} reports it. */
    private static JsonNode server(String token, int managementPort, String server) {
        Cli.Result result = Cli.against("127.0.0.1:" + managementPort, token, "pools", "show", "demo", "--json");
        assertEquals(0, result.exitCode(), result.toString());
        for (JsonNode s : result.json().path("servers"))
            if (s.path("name").asText().equals(server)) return s;
        throw new AssertionError("no " + server + " in " + result.out());
    }

    /** curl clients, 10 new TLS connections at a time, round the three nodes until stopped. */
    private AtomicInteger startLoad(int firstTls) {
        AtomicInteger served = new AtomicInteger();
        Path ca = work.resolve(".actortls/ca.crt");
        loadRunning.set(true);
        load = Thread.ofPlatform().daemon().name("dashboard-load").start(() -> {
            for (int round = 0; loadRunning.get(); round++) {
                List<String> lines = Curl.onNewConnections(ca, "localhost", firstTls + round % NODES, "/", 10);
                served.addAndGet((int) lines.stream().filter(l -> !l.isBlank()).count());
            }
        });
        return served;
    }

    private NodeProcess startLocalCluster(int firstTls, int firstCluster, int firstManagement) {
        List<String> command = new ArrayList<>(List.of(Tools.java()));
        command.addAll(Tools.jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LocalClusterOnPorts.class.getName(),
                Integer.toString(firstTls), Integer.toString(firstCluster), Integer.toString(firstManagement),
                "--nodes", Integer.toString(NODES)));
        NodeProcess started = NodeProcess.run(work, Map.of(), command);
        cluster = started; // stopped by stop() even if it never comes up
        for (int node = 1; node <= NODES; node++) {
            String prefix = "[node-" + node + "] ";
            started.awaitLog(line -> line.startsWith(prefix) && line.contains("members up: " + NODES), UP,
                    "node " + node + " to see " + NODES + " members up");
        }
        return started;
    }

    /** Node i's ports are each first port + i - 1: nine free ports in a row (TLS, cluster, management). */
    private static int consecutiveFreePorts() {
        for (int attempt = 0; attempt < 20; attempt++) {
            int first = Tools.freePort();
            boolean inARow = true;
            for (int i = 1; i < 3 * NODES && inARow; i++) inARow = Tools.freePort() == first + i;
            if (inARow) return first;
        }
        throw new AssertionError("no nine free ports in a row");
    }

    private static boolean every(JsonNode array, Predicate<String> test) {
        for (JsonNode element : array) if (!test.test(element.asText())) return false;
        return true;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... lists) {
        List<String> all = new ArrayList<>();
        for (List<String> list : lists) all.addAll(list);
        return all;
    }
}
