package io.actortls.proxy;

import java.util.Optional;
import org.apache.pekko.stream.CompletionStrategy;
import org.apache.pekko.util.ByteString;

/** What a connection actor feeds into one of its socket streams: bytes, then the end of its sending half. */
sealed interface Outbound {
    record Data(ByteString bytes) implements Outbound {}

    /** Send what is queued, then FIN. */
    record Finish() implements Outbound {}

    static Optional<CompletionStrategy> completion(Outbound message) {
        return message instanceof Finish ? Optional.of(CompletionStrategy.draining()) : Optional.empty();
    }

    static Optional<Throwable> failure(Outbound message) {
        return Optional.empty();
    }

    static ByteString bytes(Outbound message) {
        return ((Data) message).bytes();
    }
}
