package io.actortls.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code actortls} management commands, one-shot ({@code actortls cluster show}) or at the prompt of
 * {@code actortls connect host:port}. Exit codes: 0 done, 1 the node or cluster refused or could not be reached,
 * 2 usage error (with the usage printed).
 */
@Command(name = "actortls", mixinStandardHelpOptions = true, version = "actortls 0.1",
        description = "Manage an ActorTls cluster through any of its nodes' management API.",
        subcommands = {ClusterCommand.class, NodesCommand.class, NodeCommand.class, PoolsCommand.class, ServerCommand.class,
                ConnectionsCommand.class, SessionsCommand.class, TicketsCommand.class, CertsCommand.class,
                MetricsCommand.class, LogCommand.class, ConnectCommand.class, TokenCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Nodes:  actortls node [--config FILE] [--seed HOST:PORT]...   run a node",
                "        actortls local-cluster [--nodes N]   run N local nodes with demo backends (management on 127.0.0.1:7626..)",
                "        actortls demo | demo-backend | cluster-certs | test   (see actortls help-node)",
                "",
                "Without --node, commands go to the local cluster's first node (127.0.0.1:7626) with the token",
                "`actortls local-cluster` wrote to .actortls/management.token (`actortls token` prints it).",
                "The dashboard: http://127.0.0.1:7626/ (any node's management address), log in with that token."})
public final class ActorTlsCli {

    @Option(names = "--node", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
            description = "management API of any node (default: $ACTORTLS_NODE, else the local cluster's first node)")
    String node;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
            description = "management token (default: $ACTORTLS_MANAGEMENT_TOKEN, else the local cluster's)")
    String token;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "print the API's JSON instead of tables")
    boolean json;

    /** Set in interactive mode: every command goes to the node the shell connected to. */
    private Target fixedTarget;
    private PrintWriter writer = new PrintWriter(System.out, true);

    ActorTlsCli() {}

    ActorTlsCli(Target fixedTarget, PrintWriter writer) {
        this.fixedTarget = fixedTarget;
        this.writer = writer;
    }

    ManagementClient client() {
        return new ManagementClient(target());
    }

    Target target() {
        if (fixedTarget != null && node == null && token == null) return fixedTarget;
        return Target.resolve(node, token != null ? token : fixedTarget != null ? fixedTarget.token() : null);
    }

    Output output() {
        return new Output(writer);
    }

    boolean json() {
        return json;
    }

    /** Runs one command line; returns its exit code. */
    public static int run(String... args) {
        return commandLine(new ActorTlsCli()).execute(args);
    }

    static CommandLine commandLine(ActorTlsCli root) {
        CommandLine cli = new CommandLine(root);
        cli.setOut(root.writer);
        // A usage error prints what was wrong, then the usage of the (sub)command it happened in: exit 2.
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine failed = e.getCommandLine();
            failed.getErr().println("actortls: " + e.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(e, failed.getErr());
            failed.usage(failed.getErr());
            return CommandLine.ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof CliFailure) {
                commandLine.getErr().println("actortls: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli;
    }
}
