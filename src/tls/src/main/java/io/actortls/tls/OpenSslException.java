package io.actortls.tls;

import java.util.List;

/** A failed OpenSSL call, carrying OpenSSL's own reason text from the thread's error queue. */
public final class OpenSslException extends RuntimeException {
    private final List<String> reasons;

    OpenSslException(String operation, List<String> reasons) {
        super(reasons.isEmpty() ? operation + " failed" : operation + ": " + String.join("; ", reasons));
        this.reasons = List.copyOf(reasons);
    }

    /** The OpenSSL error strings, oldest first, e.g. {@code error:0A000102:SSL routines::unsupported protocol}. */
    public List<String> reasons() {
        return reasons;
    }
}
