package io.actortls.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The three balancers on their own: exact weighted shares, least load for the weight, and stable address affinity. */
class BalancersChooseByWeightLoadAndAddressTest {

    private static List<Balancer.Candidate> servers(double... weights) {
        List<Balancer.Candidate> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) list.add(new Balancer.Candidate("s" + (i + 1), weights[i], 0));
        return list;
    }

    @Test
    void smoothRoundRobinGivesExactInterleavedShares() {
        Balancer rr = Algorithm.ROUND_ROBIN.newBalancer();
        List<Balancer.Candidate> pool = servers(1, 2, 3);
        List<String> firstSix = new ArrayList<>();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 600; i++) {
            String picked = rr.pick(pool, "10.0.0.1").name();
            if (i < 6) firstSix.add(picked);
            counts.merge(picked, 1, Integer::sum);
        }
        assertEquals(List.of("s3", "s2", "s1", "s3", "s2", "s3"), firstSix, "nginx's smooth sequence for 1/2/3 (ties to the first)");
        assertEquals(Map.of("s1", 100, "s2", 200, "s3", 300), counts);
    }

    @Test
    void leastConnectionsPicksTheLowestLoadForItsWeight() {
        Balancer lc = Algorithm.LEAST_CONNECTIONS.newBalancer();
        List<Balancer.Candidate> pool = List.of(new Balancer.Candidate("a", 1, 3), new Balancer.Candidate("b", 2, 5),
                new Balancer.Candidate("c", 1, 2));
        // Loads with one more connection: a 4/1, b 6/2 = 3, c 3/1 = 3: a tie between b and c goes to the heavier b.
        assertEquals("b", lc.pick(pool, "10.0.0.1").name());
        // Equal servers with equal counts: spread, not always the first.
        List<Balancer.Candidate> idle = servers(1, 1, 1);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 30; i++) counts.merge(lc.pick(idle, "10.0.0.1").name(), 1, Integer::sum);
        assertEquals(Map.of("s1", 10, "s2", 10, "s3", 10), counts);
    }

    @Test
    void sourceHashKeepsEachAddressAndMovesOnlyALeavingServersClients() {
        Balancer source = Algorithm.SOURCE_HASH.newBalancer();
        List<Balancer.Candidate> all = servers(1, 1, 2);
        Map<String, String> before = new HashMap<>();
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            String ip = "10." + (i >> 8) + "." + (i & 255) + ".7";
            String server = source.pick(all, ip).name();
            assertEquals(server, source.pick(all, ip).name(), "the same address, the same server");
            before.put(ip, server);
            counts.merge(server, 1, Integer::sum);
        }
        assertEquals(0.25, counts.get("s1") / 4000.0, 0.03, "share of weight 1 of 4: " + counts);
        assertEquals(0.50, counts.get("s3") / 4000.0, 0.03, "share of weight 2 of 4: " + counts);

        List<Balancer.Candidate> withoutS2 = List.of(all.get(0), all.get(2));
        int moved = 0;
        for (var entry : before.entrySet()) {
            String now = source.pick(withoutS2, entry.getKey()).name();
            if (entry.getValue().equals("s2")) moved++;
            else assertEquals(entry.getValue(), now, "a client of a remaining server moved: " + entry.getKey());
        }
        assertTrue(moved > 0);
    }
}
