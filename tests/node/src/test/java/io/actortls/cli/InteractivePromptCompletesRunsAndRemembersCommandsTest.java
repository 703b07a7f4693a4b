package io.actortls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.Cli;
import io.actortls.testkit.Hocon;
import io.actortls.testkit.NodeProcess;
import io.actortls.testkit.Run;
import io.actortls.testkit.TestPki;
import io.actortls.testkit.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code actortls connect host:port}: the pbm-style prompt. Piped input runs each line as a command against that
 * node (a bad line reports its exit code and the prompt goes on); on a real terminal (a pty made by script(1))
 * TAB completes command names, and the lines are kept in the history file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteractivePromptCompletesRunsAndRemembersCommandsTest {
    @TempDir
    static Path dir;
    private NodeProcess node;
    private String management;

    @BeforeAll
    void startNode() {
        TestPki.Cert cert = new TestPki(dir).issue("localhost", TestPki.KeyType.EC_P256, "localhost");
        Hocon hocon = new Hocon(Tools.freePort()).vhost("localhost", cert, List.of("localhost"), List.of(), "127.0.0.1:9");
        management = hocon.management();
        node = NodeProcess.startReady(dir, hocon.render());
        node.awaitMembersUp(1, Duration.ofSeconds(30));
    }

    @AfterAll
    void stopNode() {
        if (node != null) node.close();
    }

    @Test
    void runsEachLineAgainstTheConnectedNodeAndKeepsGoingAfterAnError() {
        Cli.Result session = Cli.run(dir, Map.of("HOME", dir.toString()), "cluster show\nexplode now\nnodes\nexit\n",
                "connect", management, "--token", Hocon.MANAGEMENT_TOKEN);
        assertEquals(0, session.exitCode(), session.toString());
        String out = session.out();
        assertTrue(out.contains("[" + management + "] actortls> "), out);
        assertTrue(out.contains("Count: 1 members"), out);
        assertTrue(out.contains("(exit 2)"), "the unknown command reports exit 2 and the prompt goes on: " + out);
        assertTrue(out.contains(management), "nodes ran after the error: " + out);
    }

    @Test
    void completesCommandNamesWithTabOnATerminalAndRemembersThem() throws IOException {
        Path home = Files.createDirectories(dir.resolve("home"));
        List<String> java = new ArrayList<>();
        java.add(Tools.java());
        java.addAll(Tools.jvmFlags());
        java.addAll(List.of("io.actortls.node.Main", "connect", management, "--token", Hocon.MANAGEMENT_TOKEN));
        // script(1) gives the CLI a pseudo-terminal, so JLine runs as on a person's terminal (not the dumb one).
        Run run = Run.of(List.of("script", "-qec", "stty cols 160 rows 40; " + String.join(" ", java), "/dev/null"),
                "clu\t sh\t\nexit\n".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(60), dir,
                Map.of("CLASSPATH", System.getProperty("java.class.path"), "HOME", home.toString(), "ACTORTLS_NODE", "",
                        "ACTORTLS_MANAGEMENT_TOKEN", ""));
        String out = run.out();
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(out.contains("actortls> cluster  show"), "TAB completed clu → cluster and sh → show: " + out);
        assertTrue(out.contains("Count: 1 members"), out);
        Path history = home.resolve(".actortls_history");
        assertTrue(Files.readString(history).contains("cluster  show"), "history: " + Files.readString(history));
    }
}
