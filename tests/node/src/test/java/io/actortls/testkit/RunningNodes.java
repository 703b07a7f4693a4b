package io.actortls.testkit;

import io.actortls.node.RunningNode;
import java.time.Duration;
import java.util.List;
import java.util.stream.StreamSupport;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/** Nodes started in this JVM ({@link RunningNode#start}), each its own actor system, forming one cluster. */
public final class RunningNodes {
    private RunningNodes() {}

    /** Waits until every node sees all of them up. */
    public static void awaitMembersUp(List<RunningNode> nodes, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!nodes.stream().allMatch(n -> membersUp(n) == nodes.size())) {
            if (System.nanoTime() > deadline)
                throw new AssertionError("the " + nodes.size() + " actor systems did not form a cluster within " + timeout);
            Thread.sleep(100);
        }
    }

    /** Stops them all at once: one by one, each leaving node would wait on peers that are already gone. */
    public static void stopAll(List<RunningNode> nodes) throws InterruptedException {
        List<Thread> stopping = nodes.stream().map(n -> Thread.ofPlatform().start(n::close)).toList();
        for (Thread t : stopping) t.join(Duration.ofSeconds(90));
    }

    private static long membersUp(RunningNode node) {
        var members = Cluster.get(node.system()).state().getMembers();
        return StreamSupport.stream(members.spliterator(), false).filter(m -> m.status() == MemberStatus.up()).count();
    }
}
