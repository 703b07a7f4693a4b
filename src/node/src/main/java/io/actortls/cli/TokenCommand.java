package io.actortls.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code actortls token}: the local cluster's management token, to log in to the dashboard with. */
@Command(name = "token", description = "Print the local cluster's management token (.actortls/management.token), "
        + "for the dashboard's login at http://127.0.0.1:7626/.")
final class TokenCommand implements Callable<Integer> {
    @ParentCommand
    ActorTlsCli root;

    @Override
    public Integer call() {
        String token = Target.localToken();
        if (token == null || token.isEmpty())
            throw new CliFailure("no token in " + Target.LOCAL_TOKEN.toAbsolutePath()
                    + ": `actortls local-cluster` (or `actortls demo`) writes it on first start, run from this directory");
        root.output().line(token);
        return 0;
    }
}
