package io.actortls.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.shell.jline3.PicocliJLineCompleter;

/**
 * {@code actortls connect host:port}: a prompt ({@code [host:port] actortls>}) with history and tab completion,
 * where every management command runs against that node, as in pbm. {@code exit}, {@code quit} or Ctrl-D leave.
 */
@Command(name = "connect", description = "Open an interactive prompt connected to one node's management API.")
final class ConnectCommand implements Callable<Integer> {
    @ParentCommand
    ActorTlsCli root;

    @Parameters(paramLabel = "HOST:PORT", arity = "0..1", description = "management API (default: as --node)")
    String node;

    /** In $HOME as shells keep theirs (Java's user.home ignores $HOME). */
    private static Path historyFile() {
        String home = System.getenv("HOME");
        return Path.of(home == null || home.isBlank() ? System.getProperty("user.home") : home, ".actortls_history");
    }

    @Override
    public Integer call() throws IOException {
        Target target = Target.resolve(node != null ? node : root.node, root.token);
        try (Terminal terminal = TerminalBuilder.builder().name("actortls")
                .dumb(System.console() == null).build()) {
            PrintWriter writer = terminal.writer();
            CommandLine model = ActorTlsCli.commandLine(new ActorTlsCli(target, writer));
            LineReader reader = LineReaderBuilder.builder().terminal(terminal)
                    .completer(new PicocliJLineCompleter(model.getCommandSpec()))
                    .parser(new DefaultParser())
                    .variable(LineReader.HISTORY_FILE, historyFile())
                    .build();
            writer.println("Connected to " + target.node() + ". Type help for the commands, exit to leave.");
            String prompt = "[" + target.node() + "] actortls> ";
            while (true) {
                String line;
                try {
                    line = reader.readLine(prompt).strip();
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                if (line.equals("exit") || line.equals("quit")) return 0;
                if (line.isEmpty()) continue;
                List<String> words = reader.getParser().parse(line, line.length()).words().stream()
                        .filter(w -> !w.isEmpty()).toList();
                CommandLine command = ActorTlsCli.commandLine(new ActorTlsCli(target, writer));
                command.setErr(writer);
                int status = command.execute(words.toArray(String[]::new));
                if (status != 0) writer.println("(exit " + status + ")");
                writer.flush();
            }
        }
    }
}
