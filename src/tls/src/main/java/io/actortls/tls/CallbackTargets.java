package io.actortls.tls;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Native callbacks receive a {@code void *arg}, which cannot hold a Java object. We pass a number instead and
 * look the object up here. A target is registered by its owner's constructor and removed by its close().
 */
final class CallbackTargets {
    private CallbackTargets() {}

    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static final ConcurrentHashMap<Long, Object> TARGETS = new ConcurrentHashMap<>();

    static long register(Object target) {
        long id = NEXT_ID.getAndIncrement();
        TARGETS.put(id, target);
        return id;
    }

    static <T> T lookup(long id, Class<T> type) {
        Object target = TARGETS.get(id);
        return type.isInstance(target) ? type.cast(target) : null;
    }

    static void unregister(long id) {
        TARGETS.remove(id);
    }
}
