package io.actortls.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Class-data archives (AppCDS) for the JVMs tests start, node and CLI: the classes such a JVM loads, mapped ready
 * made instead of read and verified again. Measured on the project's machine, a node is ready in 1.7 s instead of
 * 3.5 s and spends 3 s of CPU instead of 6; a CLI call spends 0.6 s instead of 1.4 s (with its other flags).
 *
 * <p>Each archive is made once per test JVM by a training run that writes it to a file of its own, renamed when
 * complete, and only then used: a JVM must never map an archive another JVM is still writing. If training fails,
 * JVMs start without an archive, only slower.
 */
final class ClassDataArchive {
    private static List<String> node;
    private static List<String> cli;

    private ClassDataArchive() {}

    /**
     * The class path of node and CLI JVMs: this test JVM's, but for the tests' own classes, which they never load.
     * An archive can only be made from jar files, and test-classes is a directory.
     */
    static String classPath() {
        return java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(entry -> !entry.endsWith("test-classes"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    }

    /** The flags a node JVM maps the node archive with (empty without one). */
    static synchronized List<String> forNode() {
        if (node == null) node = train("node", training -> {
            Path dir;
            try {
                dir = Files.createTempDirectory("cds-training");
            } catch (IOException e) {
                return;
            }
            int port = Tools.freePort();
            TestPki.Cert cert = new TestPki(dir).issue("localhost", TestPki.KeyType.EC_P256, "localhost");
            String hocon = new Hocon(port).vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:" + Tools.freePort())
                    .render();
            NodeProcess trainee = NodeProcess.start(List.of(), training, dir, hocon, java.util.Map.of());
            try {
                trainee.awaitReady(Duration.ofSeconds(60));
                // A handshake, so that the TLS and connection classes are in the archive too.
                SClient.handshake(port, "-servername", "localhost");
            } finally {
                trainee.stop(Duration.ofSeconds(30));
            }
        });
        return node;
    }

    /** The flags a CLI JVM maps the CLI archive with (empty without one). */
    static synchronized List<String> forCli(List<String> cliFlags) {
        if (cli == null) cli = train("cli", training -> {
            List<String> command = new ArrayList<>(List.of(Tools.java()));
            command.addAll(cliFlags);
            command.addAll(training);
            command.addAll(List.of("-cp", classPath(), "io.actortls.node.Main",
                    "pools", "list", "--node", "127.0.0.1:1", "--token", "training"));
            Run.of(command, new byte[0], Duration.ofSeconds(60));
        });
        return cli;
    }

    /** Runs {@code training} with the flags that write the archive at exit; returns the flags that map it. */
    private static List<String> train(String name, Consumer<List<String>> training) {
        Path archive = Path.of("target", name + "-" + ProcessHandle.current().pid() + ".jsa").toAbsolutePath();
        Path written = archive.resolveSibling(archive.getFileName() + ".tmp");
        try {
            training.accept(List.of("-XX:ArchiveClassesAtExit=" + written, "-Xlog:cds=off"));
            if (!Files.exists(written)) return List.of();
            Files.move(written, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            archive.toFile().deleteOnExit();
        } catch (IOException | RuntimeException | AssertionError e) {
            return List.of(); // without the archive: slower, still correct
        }
        // cds=off: the JVM would report on stderr, which tests read, that the archive's module options differ.
        return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off");
    }
}
