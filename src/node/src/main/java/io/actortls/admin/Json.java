package io.actortls.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/** JSON bodies of the management API: records and maps as objects; refusals as {@code {"error": "..."}}. */
public final class Json {
    private Json() {}

    static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not serializable as JSON: " + value.getClass().getName(), e);
        }
    }

    static HttpResponse ok(Object body) {
        return response(StatusCodes.OK, body);
    }

    static HttpResponse response(StatusCode status, Object body) {
        return HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, write(body) + "\n"));
    }

    /** The cluster (or this node) refused a well-formed request: the CLI exits 1 with this message. */
    static HttpResponse refused(StatusCode status, String message) {
        return response(status, error(message));
    }

    static Map<String, String> error(String message) {
        return Map.of("error", message);
    }
}
