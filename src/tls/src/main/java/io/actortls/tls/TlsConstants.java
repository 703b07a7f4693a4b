package io.actortls.tls;

/**
 * OpenSSL 3.0 numbers that libssl.so.3 does not export as symbols (macros and enum values).
 * A wrong value here turns into a wrong native call, so {@code OpenSslConstantsMatchHeadersTest}
 * compiles a C program against the installed headers and compares every field.
 */
public final class TlsConstants {
    private TlsConstants() {}

    // SSL_CTX_ctrl / SSL_ctrl commands (ssl.h)
    public static final int SSL_CTRL_MODE = 33;
    public static final int SSL_CTRL_SET_SESS_CACHE_SIZE = 42;
    public static final int SSL_CTRL_SET_SESS_CACHE_MODE = 44;
    public static final int SSL_CTRL_SET_GROUPS_LIST = 92;
    public static final int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
    public static final int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;

    // SSL_MODE_* (SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, ...))
    public static final long SSL_MODE_ENABLE_PARTIAL_WRITE = 0x1L;
    public static final long SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 0x2L;
    public static final long SSL_MODE_RELEASE_BUFFERS = 0x10L;

    // SSL_OP_* (uint64_t in 3.0)
    public static final long SSL_OP_NO_COMPRESSION = 0x20000L;
    public static final long SSL_OP_CIPHER_SERVER_PREFERENCE = 0x400000L;
    public static final long SSL_OP_NO_RENEGOTIATION = 0x40000000L;
    public static final long SSL_OP_NO_TICKET = 0x4000L;

    // SSL_SESS_CACHE_*
    public static final long SSL_SESS_CACHE_SERVER = 0x2L;
    public static final long SSL_SESS_CACHE_NO_INTERNAL = 0x300L;
    public static final int SSL_MAX_SSL_SESSION_ID_LENGTH = 32;

    // Ticket key callback sizes (TLSEXT_KEYNAME_LENGTH is internal to OpenSSL; 16 is the wire format)
    public static final int EVP_MAX_IV_LENGTH = 16;

    // OSSL_PARAM data types (core.h)
    public static final int OSSL_PARAM_UTF8_STRING = 4;
    public static final int OSSL_PARAM_OCTET_STRING = 5;

    // Protocol versions (prov_ssl.h)
    public static final int TLS1_2_VERSION = 0x0303;
    public static final int TLS1_3_VERSION = 0x0304;

    // SSL_get_error results
    public static final int SSL_ERROR_NONE = 0;
    public static final int SSL_ERROR_SSL = 1;
    public static final int SSL_ERROR_WANT_READ = 2;
    public static final int SSL_ERROR_WANT_WRITE = 3;
    public static final int SSL_ERROR_SYSCALL = 5;
    public static final int SSL_ERROR_ZERO_RETURN = 6;
    public static final int SSL_ERROR_WANT_CLIENT_HELLO_CB = 11;

    // SSL_set_shutdown flags
    public static final int SSL_SENT_SHUTDOWN = 1;
    public static final int SSL_RECEIVED_SHUTDOWN = 2;

    // ClientHello callback results
    public static final int SSL_CLIENT_HELLO_SUCCESS = 1;
    public static final int SSL_CLIENT_HELLO_ERROR = 0;
    public static final int SSL_CLIENT_HELLO_RETRY = -1;

    // TLS extension callback results (ALPN)
    public static final int SSL_TLSEXT_ERR_OK = 0;
    public static final int SSL_TLSEXT_ERR_ALERT_FATAL = 2;
    public static final int SSL_TLSEXT_ERR_NOACK = 3;

    // Alerts and extension numbers
    public static final int SSL_AD_UNRECOGNIZED_NAME = 112;
    public static final int SSL_AD_INTERNAL_ERROR = 80;
    public static final int TLSEXT_TYPE_server_name = 0;
    public static final int TLSEXT_TYPE_supported_versions = 43;
    public static final int TLSEXT_TYPE_session_ticket = 35;
    public static final int TLSEXT_TYPE_psk = 41;
    public static final int TLSEXT_NAMETYPE_host_name = 0;

    // SSL_FILETYPE_PEM
    public static final int SSL_FILETYPE_PEM = 1;

    // Error codes (err.h, inline ERR_GET_LIB / ERR_GET_REASON) and the reasons we act on
    public static final long ERR_LIB_OFFSET = 23L;
    public static final int ERR_LIB_MASK = 0xFF;
    public static final int ERR_REASON_MASK = 0x7FFFFF;
    public static final int ERR_LIB_X509 = 11;
    public static final int X509_R_KEY_VALUES_MISMATCH = 116;
}
