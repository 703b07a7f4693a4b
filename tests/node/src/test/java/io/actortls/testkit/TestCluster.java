package io.actortls.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/** N node processes on 127.0.0.1 forming one cluster through node 1; each node's config comes from a function. */
public final class TestCluster implements AutoCloseable {
    public record Member(int tlsPort, int clusterPort, NodeProcess process) {}

    private final List<Member> members = new ArrayList<>();

    /**
     * @param config given (node index from 1, a Hocon with the node's ports, seed and cluster stores set), returns
     *               the node's configuration text
     */
    public static TestCluster start(Path dir, int nodes, BiFunction<Integer, Hocon, String> config) {
        TestCluster cluster = new TestCluster();
        int seedPort = Tools.freePort();
        try {
            for (int i = 1; i <= nodes; i++) cluster.add(dir, i, seedPort, config);
            for (Member m : cluster.members) m.process().awaitMembersUp(nodes, Duration.ofSeconds(60));
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /** Starts one more node (index {@code i}) that joins through node 1 and waits until it is ready. */
    public Member add(Path dir, int i, int seedPort, BiFunction<Integer, Hocon, String> config) {
        int clusterPort = i == 1 ? seedPort : Tools.freePort();
        int tlsPort = Tools.freePort();
        Hocon hocon = new Hocon(tlsPort).cluster(clusterPort, List.of("127.0.0.1:" + seedPort), ClusterPki.stores(i));
        NodeProcess process = NodeProcess.startReady(dir, config.apply(i, hocon));
        Member member = new Member(tlsPort, clusterPort, process);
        members.add(member);
        return member;
    }

    public Member member(int index) {
        return members.get(index - 1);
    }

    public int seedPort() {
        return members.getFirst().clusterPort();
    }

    @Override
    public void close() {
        members.reversed().forEach(m -> m.process().close());
    }
}
