package io.actortls.tls;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Maps an SNI host name to a value: exact names first, then one-label wildcards, as in RFC 6125
 * ({@code *.example.com} matches {@code a.example.com}, not {@code example.com} nor {@code a.b.example.com}).
 */
public final class ServerNameMatcher<T> {
    private final Map<String, T> exact = new HashMap<>();
    private final Map<String, T> wildcardSuffixes = new HashMap<>();

    /** @throws IllegalArgumentException if a name is malformed or already taken */
    public void add(String pattern, T value) {
        String name = normalize(pattern);
        if (name.isEmpty()) throw new IllegalArgumentException("empty server name");
        if (name.startsWith("*.")) {
            String suffix = name.substring(1);
            if (suffix.indexOf('*') >= 0 || suffix.length() < 2) throw new IllegalArgumentException("bad wildcard " + pattern);
            if (wildcardSuffixes.putIfAbsent(suffix, value) != null)
                throw new IllegalArgumentException("server name " + pattern + " is listed twice");
        } else {
            if (name.indexOf('*') >= 0) throw new IllegalArgumentException("a wildcard must be the whole first label: " + pattern);
            if (exact.putIfAbsent(name, value) != null)
                throw new IllegalArgumentException("server name " + pattern + " is listed twice");
        }
    }

    public Optional<T> match(String serverName) {
        String name = normalize(serverName);
        T hit = exact.get(name);
        if (hit != null) return Optional.of(hit);
        int dot = name.indexOf('.');
        return dot > 0 ? Optional.ofNullable(wildcardSuffixes.get(name.substring(dot))) : Optional.empty();
    }

    public List<String> patterns() {
        var all = new java.util.ArrayList<>(exact.keySet());
        wildcardSuffixes.keySet().forEach(s -> all.add("*" + s));
        return all;
    }

    private static String normalize(String name) {
        String lower = name.trim().toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }
}
