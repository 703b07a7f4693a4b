package io.actortls.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's local PKI, made once with the openssl command-line tool: a CA ({@code .actortls/ca.crt}), an ECDSA
 * P-256 certificate for {@code localhost} and an RSA-2048 one for {@code rsa.localhost}
 * ({@code .actortls/certs/<name>.crt|.key}). Existing files are kept, so clients keep trusting the same CA.
 */
public final class DemoCertificates {
    private DemoCertificates() {}

    public record Vhost(String name, Path certificate, Path key) {}

    public static List<Vhost> ensure(Path home) throws IOException, InterruptedException {
        Path certs = home.resolve("certs");
        Files.createDirectories(certs);
        Path caCert = home.resolve("ca.crt");
        Path caKey = home.resolve("ca.key");
        if (!Files.exists(caCert) || !Files.exists(caKey)) {
            openssl(home, "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", caKey.toString(), "-out", caCert.toString(), "-days", "3650",
                    "-subj", "/CN=ActorTls demo CA", "-addext", "basicConstraints=critical,CA:true",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        }
        List<Vhost> vhosts = new ArrayList<>();
        vhosts.add(leaf(home, certs, "localhost", List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
                "DNS:localhost,IP:127.0.0.1"));
        vhosts.add(leaf(home, certs, "rsa.localhost", List.of("-newkey", "rsa:2048"), "DNS:rsa.localhost"));
        return vhosts;
    }

    private static Vhost leaf(Path home, Path certs, String name, List<String> keySpec, String subjectAltNames)
            throws IOException, InterruptedException {
        Path cert = certs.resolve(name + ".crt");
        Path key = certs.resolve(name + ".key");
        if (Files.exists(cert) && Files.exists(key)) return new Vhost(name, cert, key);
        Path csr = certs.resolve(name + ".csr");
        Path ext = certs.resolve(name + ".ext");
        Files.writeString(ext, "subjectAltName=" + subjectAltNames + "\nextendedKeyUsage=serverAuth\n"
                + "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
        List<String> request = new ArrayList<>(List.of("req", "-new", "-nodes"));
        request.addAll(keySpec);
        request.addAll(List.of("-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + name));
        openssl(home, request.toArray(String[]::new));
        openssl(home, "x509", "-req", "-in", csr.toString(), "-CA", home.resolve("ca.crt").toString(),
                "-CAkey", home.resolve("ca.key").toString(), "-CAcreateserial", "-out", cert.toString(),
                "-days", "825", "-extfile", ext.toString());
        Files.delete(csr);
        Files.delete(ext);
        return new Vhost(name, cert, key);
    }

    private static void openssl(Path workDir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            throw new IOException("openssl " + String.join(" ", args) + " failed:\n" + output);
    }
}
