package io.actortls.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which node's management API the CLI talks to, and with what token: {@code --node}/{@code --token}, else the
 * environment ({@code ACTORTLS_NODE}, {@code ACTORTLS_MANAGEMENT_TOKEN}), else the local cluster that
 * {@code actortls local-cluster} runs (its first node, 127.0.0.1:7626, and the token it wrote).
 */
record Target(String node, String token) {

    static final String LOCAL_NODE = "127.0.0.1:7626";

    /** Where {@code actortls local-cluster} keeps its management token (relative to the project directory). */
    static final Path LOCAL_TOKEN = Path.of(".actortls", "management.token");

    static Target resolve(String node, String token) {
        String n = firstSet(node, System.getenv("ACTORTLS_NODE"), LOCAL_NODE);
        String t = firstSet(token, System.getenv("ACTORTLS_MANAGEMENT_TOKEN"), localToken());
        if (!n.matches("[^:/\\s]+:[0-9]{1,5}"))
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(new ActorTlsCli()),
                    "--node must be host:port, not " + n);
        return new Target(n, t == null ? "" : t);
    }

    /** The local cluster's token, or null if there is none to read. */
    static String localToken() {
        try {
            return Files.isRegularFile(LOCAL_TOKEN) ? Files.readString(LOCAL_TOKEN).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String firstSet(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return v;
        return null;
    }
}
