package io.actortls.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** How commands print: aligned tables for people, the API's JSON for scripts ({@code --json}). */
final class Output {
    private final PrintWriter out;

    Output(PrintWriter out) {
        this.out = out;
    }

    void json(JsonNode node) {
        try {
            out.println(ManagementClient.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out.flush();
    }

    void line(String text) {
        out.println(text);
        out.flush();
    }

    /** Columns padded to their widest cell; the last column is not padded. */
    void table(List<String> headers, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        int[] widths = new int[headers.size()];
        for (List<String> row : all)
            for (int i = 0; i < row.size(); i++) widths[i] = Math.max(widths[i], row.get(i).length());
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                if (i > 0) line.append("  ");
                line.append(i == row.size() - 1 ? row.get(i) : pad(row.get(i), widths[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }

    static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? "-" : value.isTextual() ? value.asText() : value.toString();
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }
}
