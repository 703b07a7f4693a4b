package io.actortls.tls;

import java.util.List;

/** A failed OpenSSL call, carrying OpenSSL's own reason text from the thread's error queue. */
public final class OpenSslException extends RuntimeException {
    private final List<String> reasons;
    private final List<Long> codes;

    OpenSslException(String operation, List<String> reasons, List<Long> codes) {
        super(reasons.isEmpty() ? operation + " failed" : operation + ": " + String.join("; ", reasons));
        this.reasons = List.copyOf(reasons);
        this.codes = List.copyOf(codes);
    }

    /** The OpenSSL error strings, oldest first, e.g. {@code error:0A000102:SSL routines::unsupported protocol}. */
    public List<String> reasons() {
        return reasons;
    }

    /** Whether OpenSSL reported this library's reason code (ERR_GET_LIB and ERR_GET_REASON of one queued error). */
    boolean hasReason(int library, int reason) {
        return codes.stream().anyMatch(code -> ((code >>> TlsConstants.ERR_LIB_OFFSET) & TlsConstants.ERR_LIB_MASK) == library
                && (code & TlsConstants.ERR_REASON_MASK) == reason);
    }
}
