package io.actortls.session;

import io.actortls.tls.TicketKeyRing;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/** On every node: installs each ticket-key generation gossiped through the cluster into OpenSSL's key ring. */
public final class TicketKeyInstaller {
    private TicketKeyInstaller() {}

    public sealed interface Command {}
    private record KeysChanged(TicketKeyGeneration keys) implements Command {}

    static final Key<LWWRegister<TicketKeyGeneration>> KEY = LWWRegisterKey.create("tls-ticket-keys");

    public static Behavior<Command> create(TicketKeyRing ring, TicketKeyState state) {
        return Behaviors.setup(ctx -> DistributedData.<Command, LWWRegister<TicketKeyGeneration>>withReplicatorMessageAdapter(replicator -> {
            replicator.subscribe(KEY, response -> response instanceof Replicator.Changed<LWWRegister<TicketKeyGeneration>> c
                    ? new KeysChanged(c.get(KEY).getValue()) : new KeysChanged(TicketKeyGeneration.NONE));
            return Behaviors.receive(Command.class)
                    .onMessage(KeysChanged.class, m -> {
                        if (m.keys().generation() > state.generation()) {
                            m.keys().installInto(ring);
                            state.installed(m.keys());
                            ctx.getLog().info("installed ticket keys generation {}", m.keys().generation());
                        }
                        return Behaviors.same();
                    })
                    .build();
        }));
    }
}
