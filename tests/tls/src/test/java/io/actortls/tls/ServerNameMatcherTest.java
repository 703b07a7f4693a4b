package io.actortls.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SNI name lookup: exact names before one-label wildcards, case-insensitive, trailing dot ignored, no duplicates. */
class ServerNameMatcherTest {
    private static ServerNameMatcher<String> matcher(String... patternThenValue) {
        ServerNameMatcher<String> matcher = new ServerNameMatcher<>();
        for (int i = 0; i < patternThenValue.length; i += 2) matcher.add(patternThenValue[i], patternThenValue[i + 1]);
        return matcher;
    }

    @Test
    void exactNameMatchesOnlyItself() {
        var m = matcher("example.com", "site");
        assertEquals(Optional.of("site"), m.match("example.com"));
        assertEquals(Optional.empty(), m.match("www.example.com"));
        assertEquals(Optional.empty(), m.match("example.co"));
        assertEquals(Optional.empty(), m.match("xexample.com"));
        assertEquals(Optional.empty(), m.match(""));
    }

    @Test
    void namesAreCaseInsensitiveBothWays() {
        var m = matcher("Example.COM", "site", "*.Wild.Example.org", "wild");
        assertEquals(Optional.of("site"), m.match("example.com"));
        assertEquals(Optional.of("site"), m.match("EXAMPLE.com"));
        assertEquals(Optional.of("wild"), m.match("A.WILD.example.ORG"));
    }

    @Test
    void aTrailingDotIsIgnoredInPatternsAndNames() {
        var m = matcher("example.com.", "site", "*.example.org.", "wild");
        assertEquals(Optional.of("site"), m.match("example.com"));
        assertEquals(Optional.of("site"), m.match("example.com."));
        assertEquals(Optional.of("wild"), m.match("a.example.org."));
        assertEquals(Optional.of("wild"), m.match("a.example.org"));
    }

    @Test
    void aWildcardCoversExactlyOneLabel() {
        var m = matcher("*.example.com", "wild");
        assertEquals(Optional.of("wild"), m.match("a.example.com"));
        assertEquals(Optional.of("wild"), m.match("xn--bcher-kva.example.com"));
        assertEquals(Optional.empty(), m.match("example.com"), "the wildcard does not cover the bare domain");
        assertEquals(Optional.empty(), m.match("a.b.example.com"), "the wildcard covers one label only");
        assertEquals(Optional.empty(), m.match(".example.com"), "an empty label is not a label");
        assertEquals(Optional.empty(), m.match("a.example.com.evil"));
        assertEquals(Optional.empty(), m.match("aexample.com"));
    }

    @Test
    void anExactNameWinsOverAWildcard() {
        var m = matcher("*.example.com", "wild", "www.example.com", "www");
        assertEquals(Optional.of("www"), m.match("www.example.com"));
        assertEquals(Optional.of("www"), m.match("WWW.example.com."));
        assertEquals(Optional.of("wild"), m.match("api.example.com"));
    }

    @Test
    void aWildcardAndItsBareDomainAreDifferentNames() {
        var m = matcher("*.example.com", "wild", "example.com", "bare");
        assertEquals(Optional.of("bare"), m.match("example.com"));
        assertEquals(Optional.of("wild"), m.match("a.example.com"));
        assertEquals(2, m.patterns().size());
        assertTrue(m.patterns().containsAll(List.of("*.example.com", "example.com")), m.patterns().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.com", "EXAMPLE.com", "example.com.", " example.com "})
    void anExactNameListedTwiceIsRejected(String second) {
        var m = matcher("example.com", "first");
        var e = assertThrows(IllegalArgumentException.class, () -> m.add(second, "second"));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertEquals(Optional.of("first"), m.match("example.com"), "the first entry stays");
    }

    @ParameterizedTest
    @ValueSource(strings = {"*.example.com", "*.EXAMPLE.COM", "*.example.com."})
    void aWildcardListedTwiceIsRejected(String second) {
        var m = matcher("*.example.com", "first");
        var e = assertThrows(IllegalArgumentException.class, () -> m.add(second, "second"));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        assertEquals(Optional.of("first"), m.match("a.example.com"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", ".", "*", "*.", "a.*.example.com", "w*.example.com", "*.*.example.com", "*example.com"})
    void malformedPatternsAreRejected(String pattern) {
        assertThrows(IllegalArgumentException.class, () -> new ServerNameMatcher<String>().add(pattern, "x"));
    }
}
