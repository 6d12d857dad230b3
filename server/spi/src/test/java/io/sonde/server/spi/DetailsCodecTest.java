package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.Random;

import org.junit.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

public class DetailsCodecTest {

    private static void roundTrip(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        JsonObject back = DetailsCodec.decode(DetailsCodec.encode(o));
        assertEquals(json, o.toString(), back.toString());
    }

    @Test
    public void theKindsDetailsComeBackAsTheyWere() {
        roundTrip("{\"address\":\"198.18.0.1\",\"port\":443}");
        roundTrip("{\"address\":\"127.0.0.1\",\"sent\":3,\"received\":2,\"rtts\":[2.1E-4,2.5E-4],\"reply_ttl\":64}");
        roundTrip("{\"address\":\"fd00:18::1\",\"reached\":true,\"hops\":[{\"ttl\":1,\"address\":null,\"sent\":3,\"rtts\":[]},"
                + "{\"ttl\":2,\"address\":\"198.18.3.2\",\"sent\":3,\"rtts\":[0.001234567,0.02]}]}");
        roundTrip("{\"status_code\":200,\"phases\":{\"dns\":1.0E-5,\"connect\":1.23E-4,\"processing\":0.3,\"transfer\":0.0},"
                + "\"body_bytes\":1234,\"http_version\":\"HTTP/1.1\",\"tls_version\":\"TLSv1.3\",\"cert_expiry\":\"2027-01-01T00:00:00Z\"}");
        roundTrip("{\"plugin\":\"io.sonde.plugin.dns\",\"plugin_version\":\"0.1.0\",\"data\":{\"answer_rrs\":1,\"rcode\":0,"
                + "\"serial\":2026120101,\"ratio\":0.333,\"big\":12345678901234567890,\"neg\":-7,\"x\":-1.5E300,\"nan\":\"NaN\","
                + "\"ünï\":\"çödé\",\"not_ip\":\"1.2.3.256\",\"lead\":\"01.2.3.4\",\"ok\":false,\"nothing\":null,\"list\":[1,\"a\",[true]]}}");
    }

    @Test
    public void emptyIsNothing() {
        assertNull(DetailsCodec.encode(null));
        assertNull(DetailsCodec.encode(new JsonObject()));
        assertEquals(new JsonObject(), DetailsCodec.decode(null));
    }

    @Test
    public void compact() {
        byte[] tcp = DetailsCodec.encode(JsonParser.parseString("{\"address\":\"198.18.0.1\",\"port\":443}").getAsJsonObject());
        assertTrue("tcp: " + tcp.length, tcp.length <= 12);
        byte[] ping = DetailsCodec.encode(JsonParser.parseString(
                "{\"address\":\"198.18.0.2\",\"sent\":3,\"received\":3,\"rtts\":[2.1E-4,2.5E-4,2.3E-4]}").getAsJsonObject());
        assertTrue("ping: " + ping.length, ping.length <= 30);
    }

    @Test
    public void randomTreesComeBack() {
        Random r = new Random(5);
        for (int i = 0; i < 2000; i++) {
            JsonObject o = new JsonObject();
            for (int k = 0; k < 1 + r.nextInt(6); k++) {
                String key = r.nextBoolean() ? DetailsCodec.KEYS.get(r.nextInt(DetailsCodec.KEYS.size())) : "k" + r.nextInt(100);
                switch (r.nextInt(6)) {
                    case 0 -> o.addProperty(key, r.nextLong());
                    case 1 -> o.addProperty(key, r.nextDouble() * Math.pow(10, r.nextInt(20) - 10));
                    case 2 -> o.addProperty(key, r.nextInt(1_000_000_000) / 1e9);
                    case 3 -> o.addProperty(key, r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(300));
                    case 4 -> {
                        JsonArray a = new JsonArray();
                        a.add(r.nextInt());
                        a.add("s" + r.nextInt());
                        o.add(key, a);
                    }
                    default -> o.addProperty(key, r.nextBoolean());
                }
            }
            // through JSON text, as a batch brings it
            JsonObject parsed = JsonParser.parseString(o.toString()).getAsJsonObject();
            assertEquals(parsed.toString(), DetailsCodec.decode(DetailsCodec.encode(parsed)).toString());
        }
    }

    @Test
    public void wholeNumbersAreTheOnesJsonWritesSo() {
        for (String yes : new String[] {"0", "7", "-0", "-12", "9223372036854775808"}) {
            org.junit.Assert.assertTrue(yes, DetailsCodec.isInteger(yes));
        }
        for (String no : new String[] {"", "-", "01", "-01", "1.0", "1e3", "+1", "1-"}) {
            org.junit.Assert.assertFalse(no, DetailsCodec.isInteger(no));
        }
    }
}
