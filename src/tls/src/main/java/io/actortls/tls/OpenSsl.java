package io.actortls.tls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Downcall handles into the system's libssl.so.3 and libcrypto.so.3, and the error-queue helpers.
 * Only this package calls them; the rest of ActorTls sees {@link TlsFrontend} and {@link TlsConnection}.
 *
 * <p>Calls that never call back into Java and only touch memory BIOs or the error queue are linked
 * {@code critical(true)}: cheaper transitions, and BIO reads and writes may then use heap arrays directly.
 */
public final class OpenSsl {
    private OpenSsl() {}

    static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup CRYPTO = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
    private static final SymbolLookup SSL = SymbolLookup.libraryLookup("libssl.so.3", Arena.global());
    private static final Linker.Option CRITICAL = Linker.Option.critical(true);

    // libcrypto
    static final MethodHandle OpenSSL_version = crypto("OpenSSL_version", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    static final MethodHandle ERR_get_error = crypto("ERR_get_error", FunctionDescriptor.of(JAVA_LONG), CRITICAL);
    static final MethodHandle ERR_clear_error = crypto("ERR_clear_error", FunctionDescriptor.ofVoid(), CRITICAL);
    static final MethodHandle ERR_error_string_n =
            crypto("ERR_error_string_n", FunctionDescriptor.ofVoid(JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle BIO_s_mem = crypto("BIO_s_mem", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle BIO_new = crypto("BIO_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle BIO_free = crypto("BIO_free", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle BIO_write =
            crypto("BIO_write", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
    static final MethodHandle BIO_read =
            crypto("BIO_read", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
    static final MethodHandle BIO_ctrl_pending =
            crypto("BIO_ctrl_pending", FunctionDescriptor.of(JAVA_LONG, ADDRESS), CRITICAL);

    static final MethodHandle RAND_bytes = crypto("RAND_bytes", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle EVP_aes_256_cbc = crypto("EVP_aes_256_cbc", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle EVP_EncryptInit_ex = crypto("EVP_EncryptInit_ex",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle EVP_DecryptInit_ex = crypto("EVP_DecryptInit_ex",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle EVP_MAC_CTX_set_params =
            crypto("EVP_MAC_CTX_set_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle i2d_X509 = crypto("i2d_X509", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    // libssl: contexts
    static final MethodHandle TLS_server_method = ssl("TLS_server_method", FunctionDescriptor.of(ADDRESS));
    static final MethodHandle SSL_CTX_new = ssl("SSL_CTX_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_free = ssl("SSL_CTX_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle SSL_CTX_set_options =
            ssl("SSL_CTX_set_options", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_CTX_ctrl =
            ssl("SSL_CTX_ctrl", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_CTX_use_certificate_chain_file =
            ssl("SSL_CTX_use_certificate_chain_file", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_use_PrivateKey_file =
            ssl("SSL_CTX_use_PrivateKey_file", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle SSL_CTX_check_private_key =
            ssl("SSL_CTX_check_private_key", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SSL_CTX_set_ciphersuites =
            ssl("SSL_CTX_set_ciphersuites", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_set_cipher_list =
            ssl("SSL_CTX_set_cipher_list", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_set_session_id_context =
            ssl("SSL_CTX_set_session_id_context", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle SSL_CTX_set_timeout =
            ssl("SSL_CTX_set_timeout", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_CTX_set_num_tickets =
            ssl("SSL_CTX_set_num_tickets", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_CTX_set_client_hello_cb =
            ssl("SSL_CTX_set_client_hello_cb", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_set_alpn_select_cb =
            ssl("SSL_CTX_set_alpn_select_cb", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_get0_certificate =
            ssl("SSL_CTX_get0_certificate", FunctionDescriptor.of(ADDRESS, ADDRESS));

    // libssl: session cache and tickets
    static final MethodHandle SSL_CTX_sess_set_new_cb =
            ssl("SSL_CTX_sess_set_new_cb", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_sess_set_get_cb =
            ssl("SSL_CTX_sess_set_get_cb", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_sess_set_remove_cb =
            ssl("SSL_CTX_sess_set_remove_cb", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    static final MethodHandle SSL_CTX_set_tlsext_ticket_key_evp_cb =
            ssl("SSL_CTX_set_tlsext_ticket_key_evp_cb", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle i2d_SSL_SESSION = ssl("i2d_SSL_SESSION", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle d2i_SSL_SESSION =
            ssl("d2i_SSL_SESSION", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_SESSION_get_id = ssl("SSL_SESSION_get_id", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_SESSION_get0_id_context =
            ssl("SSL_SESSION_get0_id_context", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_SESSION_get_time = ssl("SSL_SESSION_get_time", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_SESSION_get_timeout = ssl("SSL_SESSION_get_timeout", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_SESSION_free = ssl("SSL_SESSION_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle SSL_SESSION_get_protocol_version =
            ssl("SSL_SESSION_get_protocol_version", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    // libssl: ClientHello inspection and per-connection switches made from the callback
    static final MethodHandle SSL_client_hello_get0_ext =
            ssl("SSL_client_hello_get0_ext", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle SSL_client_hello_get0_session_id =
            ssl("SSL_client_hello_get0_session_id", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS));
    static final MethodHandle SSL_get_options = ssl("SSL_get_options", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_set_options = ssl("SSL_set_options", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_clear_options = ssl("SSL_clear_options", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
    static final MethodHandle SSL_version = ssl("SSL_version", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SSL_set_SSL_CTX = ssl("SSL_set_SSL_CTX", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_set_session_id_context =
            ssl("SSL_set_session_id_context", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    // libssl: connections
    static final MethodHandle SSL_new = ssl("SSL_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle SSL_free = ssl("SSL_free", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle SSL_set_bio = ssl("SSL_set_bio", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle SSL_set_accept_state = ssl("SSL_set_accept_state", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle SSL_do_handshake = ssl("SSL_do_handshake", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SSL_read_ex =
            ssl("SSL_read_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_write_ex =
            ssl("SSL_write_ex", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    static final MethodHandle SSL_get_error = ssl("SSL_get_error", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle SSL_shutdown = ssl("SSL_shutdown", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SSL_set_shutdown = ssl("SSL_set_shutdown", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    static final MethodHandle SSL_session_reused = ssl("SSL_session_reused", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle SSL_get_servername =
            ssl("SSL_get_servername", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle SSL_get_version = ssl("SSL_get_version", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle SSL_get_current_cipher =
            ssl("SSL_get_current_cipher", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle SSL_CIPHER_get_name = ssl("SSL_CIPHER_get_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
    static final MethodHandle SSL_get0_alpn_selected =
            ssl("SSL_get0_alpn_selected", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));

    /** The version string of the loaded libcrypto, e.g. "OpenSSL 3.0.19 27 Jan 2026". */
    public static String version() {
        try {
            return cString((MemorySegment) OpenSSL_version.invokeExact(0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static void clearErrors() {
        try {
            ERR_clear_error.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Drains this thread's error queue into an exception naming the failed operation. */
    static OpenSslException failure(String operation) {
        List<String> reasons = new ArrayList<>(2);
        List<Long> codes = new ArrayList<>(2);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(256);
            for (int i = 0; i < 16; i++) {
                long code = (long) ERR_get_error.invokeExact();
                if (code == 0) break;
                codes.add(code);
                ERR_error_string_n.invokeExact(code, text, 256L);
                reasons.add(text.getString(0));
            }
        } catch (Throwable t) {
            reasons.add("(could not read the OpenSSL error queue: " + t + ")");
        }
        return new OpenSslException(operation, reasons, codes);
    }

    static String cString(MemorySegment pointer) {
        return pointer.equals(MemorySegment.NULL) ? null : pointer.reinterpret(Integer.MAX_VALUE).getString(0);
    }

    /** MethodHandle.invokeExact declares Throwable; native calls throw nothing, so anything here is a bug. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static MethodHandle crypto(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(find(CRYPTO, "libcrypto.so.3", name), fd, options);
    }

    private static MethodHandle ssl(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(find(SSL, "libssl.so.3", name), fd, options);
    }

    private static MemorySegment find(SymbolLookup library, String libraryName, String name) {
        return library.find(name).orElseThrow(() ->
                new UnsatisfiedLinkError(libraryName + " has no symbol " + name + " (OpenSSL 3.0 or newer is required)"));
    }
}
