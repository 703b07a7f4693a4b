package io.actortls.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.actortls.testkit.BackendProcess;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * testssl.sh (Debian's package), every check it makes by default but the backend's HTTP headers, against a node
 * with the default TLS settings and an ECDSA P-256 and an RSA-2048 certificate: no finding of severity MEDIUM, HIGH or CRITICAL. The summary
 * (every finding above INFO, and the count by severity, per certificate) is printed and written to {@code target/testssl-summary.txt}
 * for docs/security.md, beside testssl's own JSON reports.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PassesATestsslAuditWithTheDefaultConfigurationTest {
    private static final List<String> FAILING = List.of("MEDIUM", "HIGH", "CRITICAL");

    @TempDir
    static Path dir;

    private BackendProcess backend;
    private NodeProcess node;
    private TestPki pki;
    private int port;

    @BeforeAll
    void startNode() {
        backend = BackendProcess.start();
        port = Tools.freePort();
        // Valid for a year, with a CRL location, as a public CA's certificate: testssl judges the certificate too.
        pki = new TestPki(dir, 365, "http://ca.actortls.test/ca.crl");
        node = NodeProcess.startReady(dir, new Hocon(port)
                .vhost("localhost", pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"), List.of("localhost"), List.of(), backend.address())
                .vhost("rsa", pki.issue("rsa", TestPki.KeyType.RSA_2048, "rsa.localhost"), List.of("rsa.localhost"), List.of(), backend.address())
                .defaultVhost("localhost")
                .render());
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
        if (backend != null) backend.close();
    }

    @Test
    void findsNothingOfMediumSeverityOrAbove() throws Exception {
        // Both certificates at once: testssl spends most of its time waiting on the openssl processes it starts.
        List<Audit> audits;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var ecdsa = CompletableFuture.supplyAsync(() -> audit("localhost", "ECDSA P-256"), threads);
            var rsa = CompletableFuture.supplyAsync(() -> audit("rsa.localhost", "RSA-2048"), threads);
            audits = List.of(ecdsa.get(10, TimeUnit.MINUTES), rsa.get(10, TimeUnit.MINUTES));
        }

        String summary = audits.stream().map(Audit::summary).collect(Collectors.joining("\n"));
        System.out.print(summary);
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("testssl-summary.txt"), summary);
            for (String name : List.of("localhost", "rsa.localhost"))
                Files.copy(dir.resolve("testssl-" + name + ".json"), target.resolve("testssl-" + name + ".json"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        for (Audit audit : audits) {
            assertTrue(audit.findings() > 50, "testssl ran its checks: " + audit.summary());
            assertTrue(audit.bySeverity().getOrDefault("OK", 0) > 10, audit.summary());
            assertEquals(List.of(), audit.failing(), audit.summary());
        }
    }

    record Audit(String summary, int findings, Map<String, Integer> bySeverity, List<String> failing) {}

    private Audit audit(String serverName, String certificate) {
        Path json = dir.resolve("testssl-" + serverName + ".json");
        // Every check testssl makes by default (protocols, cipher lists, forward secrecy, server preferences and
        // defaults, vulnerabilities, client simulation) but the HTTP response headers (-h): those are the backend's.
        List<String> command = List.of("testssl", "-p", "-s", "-f", "-P", "-S", "-U", "-c", "--quiet", "--color", "0",
                "--warnings", "batch", "--ip", "127.0.0.1", "--add-ca", pki.caCertificate().toString(),
                "--jsonfile", json.toString(), serverName + ":" + port);
        long start = System.nanoTime();
        Run run = Run.of(command, new byte[0], Duration.ofMinutes(9));
        long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
        if (!Files.exists(json)) throw new AssertionError("testssl wrote no report (exit " + run.exitCode() + "):\n" + run.all());
        JsonNode findings;
        try {
            findings = new ObjectMapper().readTree(json.toFile());
        } catch (java.io.IOException e) {
            throw new AssertionError("unreadable testssl report " + json, e);
        }
        Map<String, Integer> bySeverity = new TreeMap<>();
        List<String> notable = new ArrayList<>();
        List<String> failing = new ArrayList<>();
        for (JsonNode f : findings) {
            String severity = f.path("severity").asText();
            bySeverity.merge(severity, 1, Integer::sum);
            String line = severity + " " + f.path("id").asText() + ": " + f.path("finding").asText();
            if (!List.of("OK", "INFO").contains(severity)) notable.add(line);
            if (FAILING.contains(severity)) failing.add(line);
        }
        String summary = version() + " against " + serverName + " (default TLS settings, " + certificate + " certificate) in "
                + seconds + " s: " + findings.size() + " findings by severity " + bySeverity + "\n"
                + String.join("\n", notable) + "\n";
        return new Audit(summary, findings.size(), bySeverity, failing);
    }

    private static String version() {
        Run run = Run.of(List.of("testssl", "--version"), new byte[0], Duration.ofSeconds(30));
        return run.out().lines().filter(l -> l.contains("testssl") && l.contains("3.")).findFirst()
                .map(l -> "testssl " + l.replaceAll(".*?(3\\.[0-9.]+).*", "$1")).orElse("testssl (version unknown)");
    }
}
