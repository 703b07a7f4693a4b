package io.actortls.routing;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** One actor system for all the tests of a class: starting one costs more than most of these tests take. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ActorTestKitPerClass {
    /** The bound on every wait for something that should come within a fraction of it. */
    static final Duration WAIT = Duration.ofSeconds(5);

    ActorTestKit testKit;

    @BeforeAll
    void startTestKit() {
        testKit = ActorTestKit.create();
    }

    @AfterAll
    void stopTestKit() {
        if (testKit != null) testKit.shutdownTestKit();
    }
}
