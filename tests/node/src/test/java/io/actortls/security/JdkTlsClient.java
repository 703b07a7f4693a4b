package io.actortls.security;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK's TLS client, a second implementation beside the node's OpenSSL, trusting the test CA and checking the
 * node's name: it makes ClientHellos for the corpus and plays clients that must be served.
 */
final class JdkTlsClient {
    private final SSLContext context;

    JdkTlsClient(Path caCertificate) {
        try (InputStream pem = Files.newInputStream(caCertificate)) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + caCertificate, e);
        }
    }

    /** The first record the JDK sends to open a connection with {@code protocol} ("TLSv1.3", "TLSv1.2"). */
    byte[] clientHello(String protocol, String serverName, int port) {
        try {
            SSLEngine engine = context.createSSLEngine(serverName, port);
            engine.setUseClientMode(true);
            engine.setSSLParameters(parameters(engine.getSSLParameters(), protocol, serverName));
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.wrap(ByteBuffer.allocate(0), out);
            return Arrays.copyOf(out.array(), out.position());
        } catch (IOException e) {
            throw new IllegalStateException("the JDK made no ClientHello", e);
        }
    }

    /**
     * Connects and shakes hands over {@code raw} (already connected), which the caller keeps to count or bypass
     * what the TLS layer writes. Closing the TLS socket closes {@code raw}.
     */
    SSLSocket handshake(Socket raw, String serverName, String protocol) throws IOException {
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(raw, serverName, raw.getPort(), true);
        tls.setSSLParameters(parameters(tls.getSSLParameters(), protocol, serverName));
        tls.startHandshake();
        return tls;
    }

    private static SSLParameters parameters(SSLParameters p, String protocol, String serverName) {
        p.setProtocols(new String[] {protocol});
        p.setServerNames(List.of(new SNIHostName(serverName)));
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setApplicationProtocols(new String[] {"http/1.1"});
        return p;
    }

    /**
     * A TCP socket whose every byte goes out in a write of its own (TCP_NODELAY), so the node gets records in
     * pieces as small as TCP can make them. Counts writes and bytes to prove it.
     */
    static final class OneBytePerWrite extends Socket {
        private long writes;
        private long bytes;

        static OneBytePerWrite connect(int port) throws IOException {
            OneBytePerWrite socket = new OneBytePerWrite();
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            return socket;
        }

        long writes() {
            return writes;
        }

        long bytes() {
            return bytes;
        }

        @Override
        public OutputStream getOutputStream() throws IOException {
            OutputStream out = super.getOutputStream();
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    out.write(b);
                    writes++;
                    bytes++;
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    for (int i = 0; i < len; i++) write(b[off + i]);
                }
            };
        }
    }
}
