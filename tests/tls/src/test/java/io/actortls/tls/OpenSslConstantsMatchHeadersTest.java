package io.actortls.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.actortls.testkit.Run;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public constant of {@link TlsConstants} names a C macro or enum value of the installed OpenSSL 3 headers
 * (libssl-dev) and has its value. The C program is generated from the Java fields, so a constant added without a
 * C counterpart (or under another name) fails to compile, and the test names it.
 */
class OpenSslConstantsMatchHeadersTest {
    private static final Pattern UNDECLARED = Pattern.compile("['\u2018](\\w+)['\u2019] undeclared");

    @TempDir
    Path dir;

    @Test
    void everyConstantHasTheValueOfTheSameNameInTheHeaders() throws IOException {
        Map<String, Long> java = javaConstants();
        assertTrue(java.size() >= 30, "expected the binding's constants, found only " + java.keySet());

        Path source = dir.resolve("tls_constants.c");
        Path binary = dir.resolve("tls_constants");
        Files.writeString(source, cProgram(java.keySet()));
        Run compile = Run.of(List.of("gcc", "-std=c11", "-Wall", "-Werror", "-o", binary.toString(), source.toString()),
                null, Duration.ofSeconds(60), dir, Map.of("LC_ALL", "C"));
        if (compile.exitCode() != 0) {
            TreeSet<String> unknown = new TreeSet<>();
            Matcher m = UNDECLARED.matcher(compile.stderr());
            while (m.find()) unknown.add(m.group(1));
            fail((unknown.isEmpty() ? "the generated C program does not compile"
                    : "TlsConstants fields with no C macro or enum of that name in the OpenSSL headers: " + unknown)
                    + "\n" + compile.all() + "\n" + Files.readString(source));
        }

        Run run = Run.of(List.of(binary.toString()), null, Duration.ofSeconds(10));
        assertEquals(0, run.exitCode(), run.all());
        Map<String, Long> c = new TreeMap<>();
        String headerVersion = null;
        for (String line : run.out().split("\n")) {
            String[] parts = line.split(" ", 2);
            if (parts[0].equals("OPENSSL_VERSION_TEXT")) headerVersion = parts[1];
            else c.put(parts[0], Long.parseLong(parts[1]));
        }
        List<String> differences = new ArrayList<>();
        java.forEach((name, value) -> {
            if (!value.equals(c.get(name))) differences.add(name + ": Java " + value + ", C " + c.get(name));
        });
        assertEquals(java.keySet(), c.keySet(), "the C program printed other names");
        assertTrue(differences.isEmpty(), "TlsConstants differ from the headers of " + headerVersion
                + " (the loaded library is " + OpenSsl.version() + "): " + differences);
    }

    /** All public static final fields, by reflection, so none can be left out of the comparison. */
    private static Map<String, Long> javaConstants() {
        Map<String, Long> constants = new TreeMap<>();
        List<String> unusable = new ArrayList<>();
        for (Field field : TlsConstants.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (!Modifier.isStatic(modifiers)) continue;
            if (!Modifier.isPublic(modifiers) || !Modifier.isFinal(modifiers)
                    || (field.getType() != int.class && field.getType() != long.class)) {
                unusable.add(field.toString());
                continue;
            }
            try {
                constants.put(field.getName(), ((Number) field.get(null)).longValue());
            } catch (IllegalAccessException e) {
                throw new AssertionError(e);
            }
        }
        assertTrue(unusable.isEmpty(), "TlsConstants may only hold public static final int/long constants: " + unusable);
        return constants;
    }

    /**
     * One static initialiser per constant (so each must be a compile-time constant, not a function), printed as
     * {@code NAME VALUE}; an int field must also fit the C value in 32 bits, checked by the comparison.
     */
    private static String cProgram(Iterable<String> names) {
        StringBuilder c = new StringBuilder("""
                #include <stdio.h>
                #include <openssl/opensslv.h>
                #include <openssl/err.h>
                #include <openssl/x509err.h>
                #include <openssl/ssl.h>
                #include <openssl/tls1.h>
                #include <openssl/prov_ssl.h>

                _Static_assert(OPENSSL_VERSION_MAJOR == 3, "ActorTls binds OpenSSL 3");

                """);
        StringBuilder prints = new StringBuilder();
        for (String name : names) {
            c.append("static const long long v_").append(name).append(" = (long long) (").append(name).append(");\n");
            prints.append("    printf(\"%s %lld\\n\", \"").append(name).append("\", v_").append(name).append(");\n");
        }
        return c.append("\nint main(void) {\n")
                .append("    printf(\"OPENSSL_VERSION_TEXT %s\\n\", OPENSSL_VERSION_TEXT);\n")
                .append(prints)
                .append("    return 0;\n}\n")
                .toString();
    }
}
