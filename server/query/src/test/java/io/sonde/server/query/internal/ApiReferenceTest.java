package io.sonde.server.query.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * docs/api.md lists every endpoint of the OpenAPI document the server serves, as that document says it: a new or
 * changed endpoint fails here until the list is written again ({@code mvn -pl server/query test -Dsonde.docs.write=true}
 * writes it).
 */
public class ApiReferenceTest {

    static final String BEGIN = "<!-- every endpoint, from openapi.json: written by ApiReferenceTest -->";
    static final String END = "<!-- end of the endpoints -->";
    private static final List<String> METHODS = List.of("get", "put", "post", "delete", "patch");

    @Test
    public void docsListEveryEndpointAsTheOpenApiDocumentSaysIt() throws Exception {
        JsonObject openapi;
        try (InputStream in = ApiDocs.class.getResourceAsStream("/io/sonde/server/query/openapi.json")) {
            openapi = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
        String list = render(openapi);
        assertTrue(list, list.contains("| `POST` | `/api/v1/agents/{agent_id}/results` |"));

        Path doc = Path.of("../../docs/api.md").toAbsolutePath().normalize();
        String text = Files.readString(doc);
        int from = text.indexOf(BEGIN);
        int to = text.indexOf(END);
        String written = from >= 0 && to > from ? text.substring(from + BEGIN.length(), to) : null;
        if (Boolean.getBoolean("sonde.docs.write")) {
            text = written == null ? text.stripTrailing() + "\n\n## Every endpoint\n\n" + BEGIN + list + END + "\n"
                    : text.substring(0, from + BEGIN.length()) + list + text.substring(to);
            Files.writeString(doc, text);
            written = list;
        }
        assertEquals(doc + " lists the endpoints of openapi.json; write it again with: "
                + "mvn -pl server/query test -Dsonde.docs.write=true", list, written);
    }

    /** A table of every operation: method, path, who may call it, what it does (the document's summary). */
    static String render(JsonObject openapi) {
        StringBuilder b = new StringBuilder("\n| method | path | what |\n|---|---|---|\n");
        boolean open = openapi.has("security") && openapi.getAsJsonArray("security").isEmpty();
        for (Map.Entry<String, JsonElement> path : openapi.getAsJsonObject("paths").entrySet()) {
            JsonObject ops = path.getValue().getAsJsonObject();
            for (String method : METHODS) {
                if (!ops.has(method)) {
                    continue;
                }
                JsonObject op = ops.getAsJsonObject(method);
                JsonArray security = op.has("security") ? op.getAsJsonArray("security") : null;
                boolean noLogin = security != null ? security.isEmpty() : open;
                String summary = op.has("summary") ? op.get("summary").getAsString() : "";
                b.append("| `").append(method.toUpperCase()).append("` | `").append(path.getKey()).append("` | ")
                        .append(summary.replace("|", "\\|")).append(noLogin ? " — no credential" : "").append(" |\n");
            }
        }
        return b.toString();
    }
}
