package io.actortls.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.node.NodeConfig;
import io.actortls.node.RunningNode;
import io.actortls.session.TicketKeyGeneration;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.ClusterPki;
import io.actortls.testkit.Curl;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.ManagementApi;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.TestCluster;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The management API gives nothing away. Every route of AdminRoutes (ClusterRoutes, NodeRoutes, MetricsRoutes,
 * LogRoutes, SessionRoutes, TicketRoutes, CertificateRoutes, PoolRoutes, ConnectionRoutes, DashboardRoutes,
 * DrainRoutes) but the dashboard's static page, and an unknown one, without a token and with wrong ones, answers 401 with an error and no data, and changes nothing.
 * With the token, after real TLS 1.2 and 1.3 handshakes (full and resumed, session IDs, stateful and stateless
 * tickets) and a ticket-key rotation, no answer of any read endpoint, and no line the node logged (at DEBUG during
 * the handshakes), holds, in hex or base64: a secret of those sessions (the master secrets and traffic secrets
 * s_client logged with -keylogfile, the sessions' master keys from -sess_out), the cluster's ticket keys, a vhost's
 * private key, or the management token.
 *
 * <p>The ticket keys are read honestly: a second node, in this JVM, joins the cluster with a certificate of the
 * cluster CA, as any node does, and reads them from Distributed Data, where every node gets them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ManagementApiRevealsNoSecretsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BEARER = "Bearer " + Hocon.MANAGEMENT_TOKEN;
    /** What a refused call may say, and nothing else. */
    private static final Set<String> REFUSALS = Set.of("missing Authorization: Bearer <token>", "wrong token");
    private static final Pattern KEYLOG_LINE = Pattern.compile("^[A-Z_0-9]+ [0-9a-fA-F]+ ([0-9a-fA-F]+)$", Pattern.MULTILINE);
    /** TLS 1.2's master secret; TLS 1.3's resumption PSK, which the server keeps (stateful) or seals in the ticket. */
    private static final Pattern MASTER_KEY = Pattern.compile("(?:Master-Key|Resumption PSK): ([0-9A-Fa-f]+)");
    private static final Pattern SESSION_ID = Pattern.compile("Session-ID: ([0-9A-Fa-f]+)");

    @TempDir
    static Path dir;
    private BackendProcess backend;
    private TestCluster cluster;
    private NodeProcess node;
    private RunningNode inJvm;
    private TestPki pki;
    private String management;
    private ManagementApi api;
    private ManagementApi inJvmApi;
    private int tlsPort;
    private TestPki.Cert localhost;
    private TestPki.Cert stateful;

    @BeforeAll
    void startTwoNodes() throws Exception {
        pki = new TestPki(dir);
        localhost = pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        stateful = pki.issue("stateful", TestPki.KeyType.RSA_2048, "stateful.test");
        backend = BackendProcess.start();
        cluster = TestCluster.start(dir, 1, (i, hocon) -> {
            management = hocon.management();
            return vhosts(hocon).render();
        });
        node = cluster.member(1).process();
        tlsPort = cluster.member(1).tlsPort();
        api = new ManagementApi(management);

        Hocon second = vhosts(new Hocon(Tools.freePort())
                .cluster(Tools.freePort(), List.of("127.0.0.1:" + cluster.seedPort()), ClusterPki.stores(2)));
        inJvmApi = new ManagementApi(second.management());
        inJvm = RunningNode.start(NodeConfig.load(Files.writeString(dir.resolve("in-jvm-node.hocon"), second.render())));
        node.awaitMembersUp(2, Duration.ofSeconds(60));
    }

    private Hocon vhosts(Hocon hocon) {
        return hocon.vhost("localhost", localhost, List.of("localhost"), List.of(), backend.address())
                .vhost("stateful", stateful, List.of("stateful.test"), List.of(), backend.address())
                .defaultVhost("localhost")
                .with("vhosts.stateful.resumption = \"stateful\"")
                // Far more refused calls than the defaults allow a minute: the rate limits have a test of their own.
                .with("management.failed-logins-per-minute = 1000")
                .with("management.calls-per-second = 1000");
    }

    @AfterAll
    void stop() {
        if (inJvm != null) inJvm.close();
        if (cluster != null) cluster.close();
        if (backend != null) backend.close();
    }

    @Test
    void everyRouteRefusesCallsWithoutTheRightTokenAndChangesNothing() throws Exception {
        Path session = dir.resolve("before-the-sweep.pem");
        SClient.newSession(tlsPort, "localhost", SClient.Kind.TLS12_SESSION_ID, session);
        String server = "127.0.0.1:" + backend.port();
        awaitGeneration(generation()); // both nodes on the same ticket keys (a rotation may still be spreading)
        Map<String, String> before = state();

        List<String> routes = List.of(
                "GET /cluster", "POST /cluster/join?address=127.0.0.1:1", "POST /cluster/leave",
                "POST /cluster/down?address=127.0.0.1:1", "POST /cluster/down-unreachable", "GET /cluster/events",
                "GET /nodes", "GET /metrics", "GET /log/peek?n=1000", "GET /log/level", "PUT /log/level?level=TRACE",
                "GET /sessions/stats", "GET /sessions/lookup?prefix=0000", "POST /sessions/flush", "GET /tickets",
                "POST /tickets/rotate", "GET /certs", "POST /certs/reload", "GET /pools", "GET /pools/localhost",
                "POST /pools/localhost/servers?name=evil&address=127.0.0.1:1",
                "DELETE /pools/localhost/servers/" + server, "PUT /pools/localhost/servers/" + server + "/weight?value=7",
                "POST /pools/localhost/servers/" + server + "/drain", "POST /pools/localhost/servers/" + server + "/disable",
                "POST /pools/localhost/servers/" + server + "/enable", "GET /connections/top?n=100",
                "GET /connections/reasons", "GET /dashboard/state", "POST /node/drain", "GET /no-such-route");
        String token = Hocon.MANAGEMENT_TOKEN;
        List<String> wrongAuthorizations = Arrays.asList(null, "Bearer not-the-token-at-all-0000");
        List<String> moreWrongAuthorizations = List.of("Bearer ", "Bearer " + token.substring(0, 16), "Bearer " + token + "x",
                "Bearer " + token.toUpperCase(), token, "Basic " + Base64.getEncoder().encodeToString(("admin:" + token).getBytes()));
        int refused = 0;
        for (String route : routes) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1);
            List<String> tries = new ArrayList<>(wrongAuthorizations);
            if (route.startsWith("POST /tickets") || route.startsWith("GET /tickets")) tries.addAll(moreWrongAuthorizations);
            for (String authorization : tries) {
                assertRefused(api.call(method, path, authorization), route + " with " + authorization);
                refused++;
            }
        }
        assertTrue(refused >= 2 * routes.size());

        // Nothing changed: not the members, the ticket keys, the pool, the log level, the certificates; the node
        // is not draining, serves clients, and resumes the session made before.
        assertEquals(before, state());
        assertEquals(200, api.call("GET", "/ready", null).statusCode());
        Curl.Response served = Curl.get(pki.caCertificate(), "localhost", tlsPort, "/16");
        assertEquals(200, served.status(), served.describe());
        assertTrue(SClient.resumes(tlsPort, "localhost", SClient.Kind.TLS12_SESSION_ID, session), "the session was flushed");
    }

    @Test
    void noAnswerAndNoLogLineHoldsASessionSecretOrATicketKey() throws Exception {
        assertEquals(200, api.call("PUT", "/log/level?level=DEBUG", BEARER).statusCode());
        Secrets secrets = new Secrets();
        List<String> sessionIds = new ArrayList<>();
        long generationBefore = generation();
        try {
            int n = 0;
            for (String serverName : List.of("localhost", "stateful.test"))
                for (SClient.Kind kind : SClient.Kind.values())
                    sessionIds.add(handshake(serverName, kind, "s" + n++, secrets));
            assertEquals(200, api.call("POST", "/tickets/rotate", BEARER).statusCode());
            awaitGeneration(generationBefore + 1);
            // A ticket under the new key, resumed.
            sessionIds.add(handshake("localhost", SClient.Kind.TLS13_TICKET, "after-rotation", secrets));
        } finally {
            assertEquals(200, api.call("PUT", "/log/level?level=INFO", BEARER).statusCode());
        }
        TicketKeyGeneration keys = ticketKeys(generationBefore + 1);
        for (TicketKeyGeneration.Key key : Arrays.asList(keys.previous(), keys.current(), keys.next())) {
            if (key == null) continue;
            secrets.add("a ticket HMAC key", key.hmacKey());
            secrets.add("a ticket AES key", key.aesKey());
        }
        for (Path pem : List.of(localhost.key(), stateful.key()))
            for (String line : Files.readAllLines(pem))
                if (line.length() >= 40 && !line.startsWith("-----")) secrets.addText("a vhost's private key", line);
        secrets.addText("the management token", Hocon.MANAGEMENT_TOKEN);
        assertTrue(secrets.count() >= 20, "too few secrets to look for: " + secrets.count());
        // The search finds a key inside base64 of a longer text, wherever it starts.
        for (int offset = 0; offset < 3; offset++) {
            byte[] around = new byte[offset + 32 + 7];
            System.arraycopy(keys.current().aesKey(), 0, around, offset, 32);
            assertTrue(secrets.found(Base64.getEncoder().encodeToString(around)), "not found at offset " + offset);
        }

        Map<String, String> answers = new LinkedHashMap<>();
        for (var entry : Map.of("node 1", api, "node 2 (in this JVM)", inJvmApi).entrySet())
            for (String path : readEndpoints(sessionIds)) answers.put(entry.getKey() + " GET " + path, entry.getValue().get(path));
        answers.put("GET /cluster/events", events());
        for (String path : List.of("/alive", "/ready", "/", "/dashboard.js", "/dashboard.css")) answers.put("GET " + path + " without a token", api.call("GET", path, null).body());
        assertTrue(answers.entrySet().stream().anyMatch(a -> a.getKey().contains("/sessions/lookup")
                && a.getValue().contains("\"vhost\":\"localhost\"")), "the lookups found the sessions: " + answers);

        answers.forEach((what, body) -> secrets.assertNotIn(body, "the answer to " + what));
        String log = node.output();
        secrets.assertNotIn(log, "node 1's log (its stdout and stderr)");
        System.out.printf("management API: %d secrets in %d forms looked for in %d answers (%d KiB) and %d log lines%n",
                secrets.secrets, secrets.count(), answers.size(),
                answers.values().stream().mapToInt(String::length).sum() / 1024, log.lines().count());
    }

    /** Makes a session with s_client, records its secrets, resumes it once; returns its session ID (hex). */
    private String handshake(String serverName, SClient.Kind kind, String name, Secrets secrets) throws Exception {
        Path session = dir.resolve(name + ".pem");
        Path keylog = dir.resolve(name + ".keylog");
        SClient.newSession(tlsPort, serverName, kind, session, "/16", List.of("-keylogfile", keylog.toString()));
        assertTrue(SClient.resumes(tlsPort, serverName, kind, session), serverName + " " + kind + " did not resume");
        Matcher secret = KEYLOG_LINE.matcher(Files.readString(keylog));
        int found = 0;
        while (secret.find()) {
            secrets.add("a secret s_client logged for " + name, HexFormat.of().parseHex(secret.group(1)));
            found++;
        }
        assertTrue(found >= 1, "no secrets in " + keylog);
        Run text = Run.of(List.of("openssl", "sess_id", "-in", session.toString(), "-noout", "-text"), null, Duration.ofSeconds(20));
        Matcher masterKey = MASTER_KEY.matcher(text.out());
        assertTrue(masterKey.find(), text.all());
        secrets.add("the master key of session " + name, HexFormat.of().parseHex(masterKey.group(1)));
        Matcher id = SESSION_ID.matcher(text.out());
        return id.find() ? id.group(1).toLowerCase() : "";
    }

    private List<String> readEndpoints(List<String> sessionIds) {
        List<String> paths = new ArrayList<>(List.of("/cluster", "/nodes", "/metrics", "/log/peek?n=1000", "/log/level",
                "/log/level?logger=io.actortls", "/sessions/stats", "/tickets", "/certs", "/pools", "/pools/localhost",
                "/pools/stateful", "/connections/top?n=100", "/connections/top?n=100&by=bytes", "/connections/reasons",
                "/dashboard/state"));
        for (String id : new TreeSet<>(sessionIds)) if (id.length() >= 8) paths.add("/sessions/lookup?prefix=" + id.substring(0, 8));
        return paths;
    }

    /** The membership event stream, read for two seconds by curl (it has no end). */
    private String events() {
        String url = "http://" + management + "/cluster/events";
        Run run = Run.of(List.of("curl", "-sS", "--max-time", "2", "-H", "Authorization: " + BEARER, url), null,
                Duration.ofSeconds(20));
        String body = run.out();
        assertTrue(body.contains("\"event\""), "no events in 2 s: " + run.all());
        return body;
    }

    /** A refusal: 401 with the WWW-Authenticate challenge and a body that is one error message and nothing else. */
    private static void assertRefused(HttpResponse<String> response, String what) throws Exception {
        assertEquals(401, response.statusCode(), what + ": " + response.body());
        assertTrue(response.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), what);
        JsonNode body = JSON.readTree(response.body());
        assertEquals(1, body.size(), what + ": " + response.body());
        assertTrue(REFUSALS.contains(body.path("error").asText()), what + ": " + response.body());
    }

    /** What the refused calls could have changed, as the API shows it with the token. */
    private Map<String, String> state() throws Exception {
        Map<String, String> state = new LinkedHashMap<>();
        JsonNode cluster = JSON.readTree(api.get("/cluster"));
        List<String> members = new ArrayList<>();
        cluster.path("members").forEach(m -> members.add(m.path("address").asText() + " " + m.path("status").asText()));
        state.put("members", members.toString());
        state.put("ticket generations", JSON.readTree(api.get("/tickets")).path("nodes").findValuesAsText("current").toString());
        List<String> servers = new ArrayList<>();
        JSON.readTree(api.get("/pools/localhost")).path("servers").forEach(s -> servers.add(s.path("name").asText() + " "
                + s.path("weight").asText() + " " + s.path("admin").asText()));
        state.put("servers", servers.toString());
        state.put("log level", JSON.readTree(api.get("/log/level")).path("level").asText());
        state.put("certificates", JSON.readTree(api.get("/certs")).findValuesAsText("serial").toString());
        return state;
    }

    /** The lowest ticket-key generation any node has installed. */
    private long generation() throws Exception {
        long lowest = Long.MAX_VALUE;
        for (String current : JSON.readTree(api.get("/tickets")).path("nodes").findValuesAsText("current"))
            lowest = Math.min(lowest, Long.parseLong(current));
        return lowest;
    }

    /** Waits until every node has installed {@code generation} or a later one. */
    private void awaitGeneration(long generation) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (generation() < generation) {
            if (System.nanoTime() > deadline) throw new AssertionError("ticket keys still at generation " + generation());
            Thread.sleep(100);
        }
    }

    /** The cluster's ticket keys as node 2 holds them in Distributed Data, once it has generation {@code atLeast}. */
    private TicketKeyGeneration ticketKeys(long atLeast) throws Exception {
        Key<LWWRegister<TicketKeyGeneration>> key = LWWRegisterKey.create("tls-ticket-keys");
        ActorRef<Replicator.Command> replicator = DistributedData.get(inJvm.system()).replicator();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            Replicator.GetResponse<LWWRegister<TicketKeyGeneration>> response = AskPattern
                    .<Replicator.Command, Replicator.GetResponse<LWWRegister<TicketKeyGeneration>>>ask(replicator,
                            replyTo -> new Replicator.Get<>(key, Replicator.readLocal(), replyTo), Duration.ofSeconds(5),
                            inJvm.system().scheduler())
                    .toCompletableFuture().get(10, TimeUnit.SECONDS);
            if (response instanceof Replicator.GetSuccess<LWWRegister<TicketKeyGeneration>> ok
                    && ok.get(key).getValue().generation() >= atLeast) return ok.get(key).getValue();
            if (System.nanoTime() > deadline) throw new AssertionError("node 2 has no ticket keys of generation " + atLeast);
            Thread.sleep(100);
        }
    }

    /** Secrets and the forms in which they must not appear: hex (either case, or with colons) and base64. */
    private static final class Secrets {
        private final Map<String, String> forms = new LinkedHashMap<>();
        int secrets;

        void add(String what, byte[] secret) {
            secrets++;
            HexFormat hex = HexFormat.of();
            for (HexFormat format : List.of(hex, hex.withUpperCase(), HexFormat.ofDelimiter(":"),
                    HexFormat.ofDelimiter(":").withUpperCase())) {
                forms.put(format.formatHex(secret), what);
                forms.put(format.formatHex(secret, 0, Math.min(12, secret.length)), what + " (its first 12 bytes)");
            }
            // Base64 of a longer text shows the secret's bytes from the first one aligned on 3: one of three shifts.
            for (int shift = 0; shift < 3; shift++) {
                byte[] aligned = Arrays.copyOfRange(secret, shift, shift + (secret.length - shift) / 3 * 3);
                forms.put(Base64.getEncoder().encodeToString(aligned), what + " (base64)");
                forms.put(Base64.getUrlEncoder().withoutPadding().encodeToString(aligned), what + " (base64url)");
            }
        }

        void addText(String what, String text) {
            secrets++;
            forms.put(text, what);
        }

        int count() {
            return forms.size();
        }

        boolean found(String text) {
            return forms.keySet().stream().anyMatch(text::contains);
        }

        void assertNotIn(String text, String where) {
            forms.forEach((form, what) -> assertFalse(text.contains(form), where + " holds " + what));
        }
    }
}
