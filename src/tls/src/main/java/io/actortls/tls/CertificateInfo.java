package io.actortls.tls;

import java.io.ByteArrayInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

/**
 * What identifies the certificate a virtual host presents: public facts only, for the management API.
 *
 * @param path              the certificate chain file it was loaded from
 * @param serial            serial number, hex
 * @param sha256Fingerprint SHA-256 of the DER encoding, hex (as {@code openssl x509 -fingerprint -sha256})
 * @param notAfter          ISO-8601 instant
 */
public record CertificateInfo(String vhost, String path, String subject, String serial, String sha256Fingerprint,
                              String notAfter) {

    static CertificateInfo of(String vhost, String path, byte[] der) {
        try {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
            return new CertificateInfo(vhost, path, cert.getSubjectX500Principal().getName(),
                    cert.getSerialNumber().toString(16),
                    HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(der)),
                    cert.getNotAfter().toInstant().toString());
        } catch (CertificateException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("OpenSSL loaded a certificate Java cannot read: " + e.getMessage(), e);
        }
    }
}
