package io.actortls.tls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Per-thread native scratch memory for the duration of one call: record buffers and out-parameters.
 * One per thread, never per connection, so idle connections hold no native buffers of ours.
 * Callbacks get their own out-parameters because they run inside a downcall that may be using the others.
 */
final class Scratch {
    static final int BUFFER_SIZE = 64 * 1024;
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    final MemorySegment buffer;
    final MemorySegment sizeOut;
    final MemorySegment callbackPointerOut;
    final MemorySegment callbackSizeOut;

    private Scratch() {
        // An automatic arena: the memory is freed when the thread (and with it this object) is gone.
        Arena arena = Arena.ofAuto();
        buffer = arena.allocate(BUFFER_SIZE, 16);
        sizeOut = arena.allocate(8, 8);
        callbackPointerOut = arena.allocate(8, 8);
        callbackSizeOut = arena.allocate(8, 8);
    }

    static Scratch get() {
        return PER_THREAD.get();
    }
}
