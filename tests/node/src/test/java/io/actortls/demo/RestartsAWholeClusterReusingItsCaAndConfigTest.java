package io.actortls.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.actortls.testkit.Cli;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.SClient;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole local cluster ({@code actortls local-cluster --nodes 3}, on free ports) is stopped with SIGTERM and
 * started again from the same directory: the three nodes form one cluster again; the demo CA, certificates,
 * cluster key stores and management token are the same files (same bytes), the node configurations differ only
 * in the demo backends' fresh ports, and the nodes serve the same certificate. Sessions made before the restart
 * do not resume after it: no session and no ticket key outlived the processes. And no file the nodes left behind
 * or held open for writing, nor anything they logged, contains the master secret of any of those sessions (as
 * hex or as raw bytes).
 */
class RestartsAWholeClusterReusingItsCaAndConfigTest {
    private static final int NODES = 3;
    private static final Duration UP = Duration.ofSeconds(120);
    private static final Pattern MASTER_KEY = Pattern.compile("^\\s*(?:Master-Key|Resumption PSK): ([0-9A-F]+)$", Pattern.MULTILINE);
    private static final Pattern BACKEND_ADDRESS = Pattern.compile("address = \"127\\.0\\.0\\.1:\\d+\"");

    /** The cluster's working directory: local-cluster keeps .actortls/ here. */
    @TempDir
    Path work;
    /** The client's session files, which hold the master secrets: outside what is scanned. */
    @TempDir
    Path client;
    private NodeProcess cluster;

    @AfterEach
    void stop() {
        if (cluster != null) close(cluster);
    }

    /** After a failure: local-cluster and whatever it started, which would outlive it if it were killed first. */
    private static void close(NodeProcess localCluster) {
        List<ProcessHandle> children = localCluster.handle().descendants().toList();
        try {
            localCluster.close();
        } finally {
            for (ProcessHandle child : children) {
                child.destroyForcibly();
                child.onExit().completeOnTimeout(child, 10, TimeUnit.SECONDS).join();
            }
        }
    }

    @Test
    void nodesRejoinWithTheSameCaCertificatesAndTokenAndNoSessionSecretOnDisk() throws Exception {
        LocalCluster.Ports ports = consecutiveFreePorts();
        List<String> logs = new ArrayList<>();
        Set<Path> writtenByNodes = new TreeSet<>();

        long startedAt = System.nanoTime();
        cluster = start(ports);
        long firstStartMs = (System.nanoTime() - startedAt) / 1_000_000;
        Map<String, String> filesBefore = hashes(work.resolve(".actortls"));
        Map<String, String> configsBefore = configs();
        JsonNode certsBefore = certsOfEveryNode(ports);
        Map<String, Path> sessions = new LinkedHashMap<>();
        for (SClient.Kind kind : SClient.Kind.values()) {
            Path file = Files.createTempFile(client, "session-", ".pem");
            SClient.newSession(ports.firstTls(), "localhost", kind, file, "/");
            assertTrue(SClient.resumes(ports.firstTls() + 1, "localhost", kind, file), kind + " did not resume on node 2");
            sessions.put(kind.name(), file);
        }
        Map<String, byte[]> secrets = new LinkedHashMap<>();
        for (var session : sessions.entrySet()) {
            byte[] secret = masterKey(session.getValue());
            // The scan below finds the secret where a client keeps it, in a PEM session file: it would find it on a node.
            assertTrue(containsSecret(Files.readAllBytes(session.getValue()), secret), "the scan misses " + session.getKey());
            secrets.put(session.getKey(), secret);
        }
        recordFilesOpenForWriting(writtenByNodes);
        long stoppingAt = System.nanoTime();
        stopAll(logs);
        long stopMs = (System.nanoTime() - stoppingAt) / 1_000_000;

        long restartedAt = System.nanoTime();
        cluster = start(ports);
        System.out.printf("local-cluster: first start %d ms to %d members up, SIGTERM to every process gone %d ms, "
                + "restart %d ms to %d members up%n", firstStartMs, NODES, stopMs,
                (System.nanoTime() - restartedAt) / 1_000_000, NODES);
        assertEquals(filesBefore, hashes(work.resolve(".actortls")),
                "the CA, certificates, key stores and token are the same files");
        assertEquals(configsBefore, configs(), "the node configurations differ only in the backends' ports");
        JsonNode members = cli(ports, "cluster", "show", "--json").path("members");
        assertEquals(NODES, members.size(), members.toString());
        for (JsonNode m : members) assertEquals("Up", m.path("status").asText(), members.toString());
        JsonNode certsAfter = certsOfEveryNode(ports);
        assertEquals(fingerprints(certsBefore), fingerprints(certsAfter), "the nodes serve the same certificates");
        assertEquals(fingerprint(work.resolve(".actortls/certs/localhost.crt")), fingerprints(certsAfter).get("localhost"),
                "the certificate served is the file made on the first start");
        for (var session : sessions.entrySet())
            for (int node = 1; node <= NODES; node++)
                assertFalse(SClient.resumes(ports.firstTls() + node - 1, "localhost", SClient.Kind.valueOf(session.getKey()),
                        session.getValue()), session.getKey() + " session from before the restart resumed on node " + node);
        recordFilesOpenForWriting(writtenByNodes);
        stopAll(logs);

        List<Path> scanned = new ArrayList<>();
        try (Stream<Path> files = Files.walk(work)) {
            files.filter(Files::isRegularFile).forEach(scanned::add);
        }
        writtenByNodes.stream().filter(Files::isRegularFile).filter(p -> !p.startsWith(work)).forEach(scanned::add);
        long bytes = 0;
        List<String> found = new ArrayList<>();
        for (Path file : scanned) {
            byte[] content = Files.readAllBytes(file);
            bytes += content.length;
            secrets.forEach((kind, secret) -> {
                if (containsSecret(content, secret)) found.add(kind + " master secret in " + file);
            });
        }
        byte[] logBytes = String.join("\n", logs).getBytes(StandardCharsets.UTF_8);
        secrets.forEach((kind, secret) -> {
            if (containsSecret(logBytes, secret)) found.add(kind + " master secret in the nodes' logs");
        });
        System.out.printf("scanned %d files (%d bytes) and %d log lines for %d master secrets; files the nodes held open "
                + "for writing: %s; found: %s%n", scanned.size(), bytes, logs.size(), secrets.size(),
                writtenByNodes, found);
        assertEquals(List.of(), found);
    }

    private NodeProcess start(LocalCluster.Ports ports) {
        List<String> command = new ArrayList<>(List.of(Tools.java()));
        command.addAll(Tools.jvmFlags());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), LocalClusterOnPorts.class.getName(),
                Integer.toString(ports.firstTls()), Integer.toString(ports.firstCluster()),
                Integer.toString(ports.firstManagement()), "--nodes", Integer.toString(NODES)));
        NodeProcess started = NodeProcess.run(work, Map.of(), command);
        try {
            for (int node = 1; node <= NODES; node++) {
                String prefix = "[node-" + node + "] ";
                started.awaitLog(line -> line.startsWith(prefix) && line.contains("members up: " + NODES), UP,
                        "node " + node + " to see " + NODES + " members up");
            }
        } catch (RuntimeException | Error e) {
            close(started);
            throw e;
        }
        return started;
    }

    /** SIGTERM to local-cluster, which passes it to every node and backend; all of them exit. */
    private void stopAll(List<String> logs) throws Exception {
        List<ProcessHandle> children = cluster.handle().descendants().toList();
        assertTrue(children.size() >= 2 * NODES, "three nodes and three backends: " + children);
        cluster.stop(Duration.ofSeconds(90));
        for (ProcessHandle child : children) {
            if (child.isAlive()) child.onExit().get(30, TimeUnit.SECONDS);
            assertFalse(child.isAlive(), "still running after SIGTERM: " + child.info().commandLine().orElse("?"));
        }
        logs.addAll(cluster.output().lines().toList());
        cluster = null;
    }

    /** Node i's ports are each first port + i - 1: nine free ports in a row. */
    private static LocalCluster.Ports consecutiveFreePorts() {
        for (int attempt = 0; attempt < 20; attempt++) {
            int first = Tools.freePort();
            boolean inARow = true;
            for (int i = 1; i < 3 * NODES && inARow; i++) inARow = Tools.freePort() == first + i;
            if (inARow) return new LocalCluster.Ports(first, first + NODES, first + 2 * NODES);
        }
        throw new AssertionError("no nine free ports in a row");
    }

    /** SHA-256 of every file under {@code dir} but the node configurations, by relative path. */
    private static Map<String, String> hashes(Path dir) throws IOException {
        Map<String, String> hashes = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String name = dir.relativize(file).toString();
                if (!name.startsWith("local-cluster/")) hashes.put(name, sha256(Files.readAllBytes(file)));
            }
        }
        assertTrue(hashes.keySet().containsAll(List.of("ca.crt", "ca.key", "management.token", "certs/localhost.crt",
                "cluster/ca.crt", "cluster/truststore.p12", "cluster/node-1.p12")), hashes.keySet().toString());
        return hashes;
    }

    /** Each node's configuration file, the demo backends' addresses (fresh ports on every start) blanked. */
    private Map<String, String> configs() throws IOException {
        Map<String, String> configs = new TreeMap<>();
        for (int node = 1; node <= NODES; node++) {
            Path file = work.resolve(".actortls/local-cluster/node-" + node + ".hocon");
            configs.put(file.getFileName().toString(), BACKEND_ADDRESS.matcher(Files.readString(file)).replaceAll("address = \"…\""));
        }
        return configs;
    }

    /** The CLI as a person would run it from the project directory: the token from .actortls/management.token. */
    /**
     * {@code certs show} once every node answers it: "members up" comes before every node's certificate service is
     * known cluster-wide (the receptionist's gossip), and until then the CLI reports that node as "not registered yet".
     */
    private JsonNode certsOfEveryNode(LocalCluster.Ports ports) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> all = List.of("certs", "show", "--json", "--node", "127.0.0.1:" + ports.firstManagement());
        Cli.Result result = Cli.run(work, Map.of(), null, all.toArray(String[]::new));
        while (result.exitCode() != 0 && result.out().contains("not registered yet") && System.nanoTime() < deadline) {
            Thread.sleep(500);
            result = Cli.run(work, Map.of(), null, all.toArray(String[]::new));
        }
        assertEquals(0, result.exitCode(), result.toString());
        return result.json();
    }

    private JsonNode cli(LocalCluster.Ports ports, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--node", "127.0.0.1:" + ports.firstManagement()));
        Cli.Result result = Cli.run(work, Map.of(), null, all.toArray(String[]::new));
        assertEquals(0, result.exitCode(), result.toString());
        return result.json();
    }

    /** Vhost → SHA-256 fingerprint (hex, no colons) of what every node serves; the nodes must agree. */
    private static Map<String, String> fingerprints(JsonNode certs) {
        assertEquals(NODES, certs.path("nodes").size(), certs.toString());
        Map<String, String> byVhost = new TreeMap<>();
        for (JsonNode node : certs.path("nodes"))
            for (JsonNode cert : node.path("certificates")) {
                String vhost = cert.path("vhost").asText();
                String fingerprint = cert.path("sha256Fingerprint").asText().replace(":", "").toLowerCase();
                String other = byVhost.putIfAbsent(vhost, fingerprint);
                assertTrue(other == null || other.equals(fingerprint), "nodes serve different certificates: " + certs);
            }
        assertEquals(new TreeSet<>(List.of("localhost", "rsa.localhost")), byVhost.keySet(), certs.toString());
        return byVhost;
    }

    private static String fingerprint(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            var cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            return sha256(cert.getEncoded());
        }
    }

    /**
     * The session's secret as openssl reads it from s_client's file: the master secret (TLS 1.2), the resumption
     * PSK (TLS 1.3). Whoever holds it, and the session, can resume it.
     */
    private static byte[] masterKey(Path sessionFile) {
        Run run = Run.of(List.of("openssl", "sess_id", "-in", sessionFile.toString(), "-noout", "-text"), null,
                Duration.ofSeconds(20));
        Matcher m = MASTER_KEY.matcher(run.out());
        if (run.exitCode() != 0 || !m.find()) throw new AssertionError("no session secret in " + sessionFile + ":\n" + run.all());
        byte[] key = HexFormat.of().parseHex(m.group(1));
        assertTrue(key.length >= 32, "a master secret of " + key.length + " bytes");
        return key;
    }

    /**
     * Regular files the node processes (local-cluster's JVM children running {@code node}) hold open for
     * writing now, from /proc: where a node writes, if anywhere, besides its standard output.
     */
    private void recordFilesOpenForWriting(Set<Path> written) throws IOException {
        int nodes = 0;
        for (ProcessHandle p : cluster.handle().descendants().toList()) {
            if (!p.info().arguments().map(a -> List.of(a).contains("node")).orElse(false)) continue;
            nodes++;
            Path fds = Path.of("/proc/" + p.pid() + "/fd");
            List<Path> entries;
            try (Stream<Path> list = Files.list(fds)) {
                entries = list.toList();
            } catch (IOException gone) {
                continue;
            }
            for (Path fd : entries) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (!target.isAbsolute() || !Files.isRegularFile(target)) continue;
                    String info = Files.readString(Path.of("/proc/" + p.pid() + "/fdinfo/" + fd.getFileName()));
                    Matcher flags = Pattern.compile("flags:\\s+([0-7]+)").matcher(info);
                    if (flags.find() && (Integer.parseInt(flags.group(1), 8) & 3) != 0) written.add(target);
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed between listing and reading
                }
            }
        }
        assertEquals(NODES, nodes, "node processes found under local-cluster");
    }

    /** The secret as raw bytes, as hex text (either case), or inside base64 text such as a PEM file. */
    private static boolean containsSecret(byte[] content, byte[] secret) {
        String hex = HexFormat.of().formatHex(secret);
        if (indexOf(content, secret) >= 0 || indexOf(content, ascii(hex)) >= 0 || indexOf(content, ascii(hex.toUpperCase())) >= 0)
            return true;
        byte[] unwrapped = new String(content, StandardCharsets.ISO_8859_1).replaceAll("[\r\n]", "")
                .getBytes(StandardCharsets.ISO_8859_1);
        for (String piece : base64Pieces(secret)) if (indexOf(unwrapped, ascii(piece)) >= 0) return true;
        return false;
    }

    /** What the secret looks like inside base64 text, at each of the three alignments it can start at. */
    private static List<String> base64Pieces(byte[] secret) {
        List<String> pieces = new ArrayList<>();
        for (int shift = 0; shift < 3; shift++) {
            byte[] shifted = new byte[shift + secret.length];
            System.arraycopy(secret, 0, shifted, shift, secret.length);
            String text = Base64.getEncoder().encodeToString(shifted);
            // The first group mixes in the bytes before the secret (unless aligned), the last those after it.
            pieces.add(text.substring(shift == 0 ? 0 : 4, text.length() - 4));
        }
        return pieces;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
