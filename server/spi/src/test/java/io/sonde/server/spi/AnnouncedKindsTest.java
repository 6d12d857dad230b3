package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.api.HostForm;
import io.sonde.api.ResultSchema;
import io.sonde.api.TargetSchema;
import io.sonde.wire.WireCodec;

public class AnnouncedKindsTest {

    private static final ResultSchema TLS = new ResultSchema("1", List.of(
            ResultSchema.Value.of("not_after", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.CERT_EXPIRY, "expiry"),
            ResultSchema.Value.of("route", ResultSchema.Type.HOPS, "", ResultSchema.Role.PATH, "path")),
            List.of(ResultSchema.Family.labelled("probe_tls_x", ResultSchema.Sample.GAUGE, "x", "cert", "leaf", "not_after")), List.of());

    /** An agent's status as the uplink makes it: the options schema, with the result schema under "results". */
    private static String announcement(ResultSchema results) {
        JsonObject kind = WireCodec.gson().toJsonTree(TargetSchema.of(HostForm.NAME, true)).getAsJsonObject();
        if (results != null) {
            kind.add("results", WireCodec.gson().toJsonTree(results));
        }
        JsonObject all = new JsonObject();
        all.add("tlsx", kind);
        return AnnouncedKinds.check(all).toString();
    }

    @Test
    public void aResultSchemaComesBackWhole() {
        Map<String, ResultSchema> r = AnnouncedKinds.results(List.of(announcement(TLS)));
        assertEquals(TLS, r.get("tlsx"));
        assertEquals("route", AnnouncedKinds.valueWith(r.get("tlsx"), ResultSchema.Role.PATH));
        assertEquals("not_after", AnnouncedKinds.valueWith(r.get("tlsx"), ResultSchema.Role.CERT_EXPIRY));
        assertNull(AnnouncedKinds.valueWith(r.get("tlsx"), ResultSchema.Role.SENT));
        assertNull(AnnouncedKinds.valueWith(null, ResultSchema.Role.SENT));
    }

    @Test
    public void theSchemaMostAgentsAnnounceWinsAndABadOneIsLeftOut() {
        ResultSchema older = new ResultSchema("0", List.of(
                ResultSchema.Value.of("days", ResultSchema.Type.NUMBER, "", null, "d")), List.of(), List.of());
        Map<String, ResultSchema> r = AnnouncedKinds.results(List.of(announcement(older), announcement(TLS), announcement(TLS)));
        assertEquals("1", r.get("tlsx").version());
        // a family on a standard name is refused by the schema's own checks: the kind keeps its options, not this schema
        String bad = announcement(TLS).replace("probe_tls_x", "probe_success");
        assertTrue(bad, bad.contains("probe_success"));
        assertFalse(AnnouncedKinds.results(List.of(bad)).containsKey("tlsx"));
        assertTrue(AnnouncedKinds.merge(List.of(bad)).containsKey("tlsx"));
        assertFalse(AnnouncedKinds.results(List.of(announcement(null))).containsKey("tlsx"));
    }

    @Test
    public void agentsThatDifferOnlyInTheirResultsSchemaAgreeOnTheOptions() {
        ResultSchema older = new ResultSchema("0", List.of(), List.of(), List.of());
        // two agents with the same options and two versions of the results' schema, one with other options
        JsonObject other = WireCodec.gson().toJsonTree(TargetSchema.of(HostForm.NAME, false)).getAsJsonObject();
        other.add("results", WireCodec.gson().toJsonTree(TLS));
        JsonObject all = new JsonObject();
        all.add("tlsx", other);
        Map<String, TargetSchema> options = AnnouncedKinds.merge(List.of(announcement(older), announcement(TLS),
                AnnouncedKinds.check(all).toString()));
        assertEquals("the options two of three announce", TargetSchema.of(HostForm.NAME, true), options.get("tlsx"));
    }
}
