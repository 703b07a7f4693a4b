package io.actortls.tls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native out-parameters for the duration of one call. One set per thread, never per connection.
 * Callbacks get their own out-parameters because they run inside a downcall that may be using the others.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    final MemorySegment sizeOut;
    final MemorySegment callbackPointerOut;
    final MemorySegment callbackSizeOut;
    /** A session-ID context on its way into OpenSSL (which copies it): at most SSL_MAX_SID_CTX_LENGTH bytes. */
    final MemorySegment sessionIdContext;

    private Scratch() {
        // An automatic arena: the memory is freed when the thread (and with it this object) is gone.
        Arena arena = Arena.ofAuto();
        sizeOut = arena.allocate(8, 8);
        callbackPointerOut = arena.allocate(8, 8);
        callbackSizeOut = arena.allocate(8, 8);
        sessionIdContext = arena.allocate(32);
    }

    static Scratch get() {
        return PER_THREAD.get();
    }
}
