package io.actortls.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.actortls.testkit.SClient;
import io.actortls.testkit.TestPki;
import java.nio.file.Path;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a three-node cluster must do, however its nodes run: a session made on node 1 with the real
 * {@code openssl s_client -sess_out} resumes at once ({@code -sess_in}, no pause) on nodes 2 and 3, for each of
 * the four kinds (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 stateful ticket under vhost "stateful", TLS 1.3
 * stateless ticket), and never under another virtual host.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CrossNodeResumptionContract {
    /** Vhosts every node serves: "localhost" (resumption both) and "stateful" (stateful.test, resumption stateful). */
    static final String VHOSTS_EXTRA = "vhosts.stateful.resumption = \"stateful\"";

    /** The TLS port of node {@code index} (1 to 3). */
    abstract int tlsPort(int index);

    abstract Path dir();

    static TestPki.Cert[] certificates(TestPki pki) {
        return new TestPki.Cert[] {
                pki.issue("localhost", TestPki.KeyType.EC_P256, "localhost"),
                pki.issue("stateful", TestPki.KeyType.EC_P256, "stateful.test")};
    }

    @ParameterizedTest(name = "{0} via {1}")
    @CsvSource({
            "TLS12_SESSION_ID, localhost",
            "TLS12_TICKET, localhost",
            "TLS13_TICKET, stateful.test",
            "TLS13_TICKET, localhost"})
    void sessionFromNodeOneResumesOnEveryNodeImmediately(SClient.Kind kind, String serverName) throws Exception {
        Path session = Files.createTempFile(dir(), "session-", ".pem");
        SClient.newSession(tlsPort(1), serverName, kind, session);
        for (int node : new int[] {2, 3, 1})
            assertTrue(SClient.resumes(tlsPort(node), serverName, kind, session),
                    kind + " session from node 1 did not resume on node " + node);
    }

    @Test
    void sessionNeverResumesUnderAnotherVirtualHost() throws Exception {
        Path session = Files.createTempFile(dir(), "session-", ".pem");
        SClient.newSession(tlsPort(1), "localhost", SClient.Kind.TLS12_SESSION_ID, session);
        assertTrue(SClient.resumes(tlsPort(2), "localhost", SClient.Kind.TLS12_SESSION_ID, session));
        assertFalse(SClient.resumes(tlsPort(2), "stateful.test", SClient.Kind.TLS12_SESSION_ID, session),
                "a session of vhost localhost resumed under vhost stateful");

        Path stateful = Files.createTempFile(dir(), "session-", ".pem");
        SClient.newSession(tlsPort(1), "stateful.test", SClient.Kind.TLS13_TICKET, stateful);
        assertFalse(SClient.resumes(tlsPort(3), "localhost", SClient.Kind.TLS13_TICKET, stateful),
                "a session of vhost stateful resumed under vhost localhost");
    }
}
