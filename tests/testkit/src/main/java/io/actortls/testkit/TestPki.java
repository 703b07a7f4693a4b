package io.actortls.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A throw-away PKI made with the openssl tool: one CA and as many leaf certificates as a test needs. */
public final class TestPki {
    public enum KeyType { EC_P256, RSA_2048 }

    public record Cert(Path certificate, Path key) {}

    private final Path dir;
    private final Path caCert;
    private final String days;
    private final String leafExtensions;
    private final Path caKey;

    public TestPki(Path dir) {
        this(dir, 30, null);
    }

    /**
     * A PKI whose certificates are valid for {@code days} and, if {@code crlUri} is not null, name it as their CRL
     * distribution point: certificates as a public CA issues them, for audits that judge the certificate too.
     */
    public TestPki(Path dir, int days, String crlUri) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.crt");
        this.caKey = dir.resolve("ca.key");
        this.days = Integer.toString(days);
        this.leafExtensions = crlUri == null ? "" : "crlDistributionPoints=URI:" + crlUri + "\n";
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", caKey.toString(), "-out", caCert.toString(), "-days", this.days, "-subj", "/CN=ActorTls test CA",
                "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }

    public Path caCertificate() {
        return caCert;
    }

    /** A leaf certificate for {@code names} (the first is the CN; all are DNS subject alternative names). */
    public Cert issue(String fileName, KeyType type, String... names) {
        Path cert = dir.resolve(fileName + ".crt");
        Path key = dir.resolve(fileName + ".key");
        Path csr = dir.resolve(fileName + ".csr");
        Path ext = dir.resolve(fileName + ".ext");
        try {
            List<String> sans = new ArrayList<>();
            for (String n : names) sans.add("DNS:" + n);
            Files.writeString(ext, "subjectAltName=" + String.join(",", sans) + "\nextendedKeyUsage=serverAuth\n" + leafExtensions);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        List<String> request = new ArrayList<>(List.of("req", "-new", "-nodes"));
        request.addAll(type == KeyType.EC_P256
                ? List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
                : List.of("-newkey", "rsa:2048"));
        request.addAll(List.of("-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=" + names[0]));
        openssl(request.toArray(String[]::new));
        openssl("x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", days, "-extfile", ext.toString());
        return new Cert(cert, key);
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Run run = Run.of(command, null, Duration.ofSeconds(60), dir, java.util.Map.of());
        if (run.exitCode() != 0) throw new IllegalStateException("openssl " + String.join(" ", args) + ":\n" + run.all());
    }
}
