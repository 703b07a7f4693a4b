package io.actortls.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The local cluster's PKI for the mutually authenticated cluster channel, made once in
 * {@code .actortls/cluster/}: a cluster CA, a PKCS12 key store per node (key and certificate from that CA),
 * one PKCS12 trust store holding only the CA, and the stores' password in a file only the owner can read.
 */
public final class ClusterCertificates {
    private ClusterCertificates() {}

    /** {@code actortls cluster-certs [--dir DIR] [--nodes N]}: makes (or keeps) the stores and prints where they are. */
    public static int run(String[] args) {
        Path home = Path.of(".actortls");
        int nodes = 1;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--dir") && i + 1 < args.length) home = Path.of(args[++i]);
            else if (args[i].equals("--nodes") && i + 1 < args.length && args[i + 1].matches("[1-9][0-9]?")) nodes = Integer.parseInt(args[++i]);
            else if (args[i].equals("--nodes")) return io.actortls.node.Main.usage("--nodes must be 1-99"
                    + (i + 1 < args.length ? ", not " + args[i + 1] : ""));
            else return io.actortls.node.Main.usage("unknown argument for cluster-certs: " + args[i]);
        }
        try {
            for (int i = 1; i <= nodes; i++) {
                NodeStores stores = ensure(home.toAbsolutePath(), i);
                System.out.println("node " + i + ": key-store " + stores.keyStore() + ", trust-store " + stores.trustStore());
            }
            System.out.println("password (both stores): " + home.toAbsolutePath().resolve("cluster/password"));
            return 0;
        } catch (IOException | InterruptedException e) {
            System.err.println("actortls cluster-certs: " + e.getMessage());
            return io.actortls.node.Main.EXIT_FAILURE;
        }
    }

    /** Where node {@code index} (1-based) finds its stores. */
    public record NodeStores(Path keyStore, Path trustStore, String password) {}

    public static NodeStores ensure(Path home, int index) throws IOException, InterruptedException {
        Path dir = home.resolve("cluster");
        Files.createDirectories(dir);
        Path passwordFile = dir.resolve("password");
        if (!Files.exists(passwordFile)) {
            byte[] secret = new byte[18];
            new SecureRandom().nextBytes(secret);
            Files.writeString(passwordFile, HexFormat.of().formatHex(secret));
            Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        }
        String password = Files.readString(passwordFile).trim();
        Path caCert = dir.resolve("ca.crt");
        Path caKey = dir.resolve("ca.key");
        if (!Files.exists(caCert) || !Files.exists(caKey)) {
            run(dir, "openssl", "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", caKey.toString(), "-out", caCert.toString(), "-days", "3650",
                    "-subj", "/CN=ActorTls cluster CA", "-addext", "basicConstraints=critical,CA:true",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        }
        Path trustStore = dir.resolve("truststore.p12");
        if (!Files.exists(trustStore)) {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            run(dir, keytool, "-importcert", "-noprompt", "-alias", "actortls-cluster-ca", "-file", caCert.toString(),
                    "-keystore", trustStore.toString(), "-storetype", "PKCS12", "-storepass", password);
        }
        Path keyStore = dir.resolve("node-" + index + ".p12");
        if (!Files.exists(keyStore)) {
            String name = "node-" + index;
            Path key = dir.resolve(name + ".key");
            Path csr = dir.resolve(name + ".csr");
            Path cert = dir.resolve(name + ".crt");
            Path ext = dir.resolve(name + ".ext");
            Files.writeString(ext, "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
            run(dir, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key.toString(), "-out", csr.toString(), "-subj", "/CN=actortls-" + name);
            run(dir, "openssl", "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                    "-CAcreateserial", "-out", cert.toString(), "-days", "825", "-extfile", ext.toString());
            run(dir, "openssl", "pkcs12", "-export", "-in", cert.toString(), "-inkey", key.toString(),
                    "-certfile", caCert.toString(), "-name", name, "-out", keyStore.toString(), "-passout", "pass:" + password);
            for (Path temporary : List.of(key, csr, ext)) Files.delete(temporary);
        }
        return new NodeStores(keyStore, trustStore, password);
    }

    private static void run(Path workDir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(workDir.toFile())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            throw new IOException(command[0] + " failed (" + String.join(" ", command).replaceAll("pass(word)?:?\\S*", "…")
                    + "):\n" + output);
    }
}
