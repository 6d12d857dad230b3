package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import java.util.List;

import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/** expect_json's conditions: what they accept, how they read a document, and what they say when it fails them. */
public class JsonConditionTest {

    private static final JsonElement DOC = JsonParser.parseString(
            "{\"status\": \"UP\", \"n\": 10, \"f\": 1.5, \"items\": [1, 2, 3], \"obj\": {\"a b\": \"x\", \"~k/\": null}, \"s\": \"abc\"}");

    private static String fails(String condition) {
        return JsonCondition.parse(condition).failure(DOC);
    }

    private static String refused(String conditions) {
        try {
            JsonCondition.parseAll(conditions);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        fail(conditions + " was accepted");
        return null;
    }

    @Test
    public void pathsOfBothFormsAndEveryOperator() {
        for (String holds : List.of("$.status == \"UP\"", "/status == \"UP\"", "$.n == 10.0", "$.n != 11", "$.n > 9", "$.n >= 10",
                "$.n < 10.5", "$.f <= 1.5", "$.items.length() == 3", "length(/items) > 2", "$.items[2] == 3", "/items/0 == 1",
                "$.obj['a b'] == \"x\"", "$[\"obj\"][\"a b\"] =~ \"^x$\"", "/obj/~0k~1 == null", "$.obj.length() == 2",
                "$.s.length() == 3", "$.s =~ \"b\"", "$.status =~ \"^\\wP$\" ", "$.obj", "$.s != \"abd\"", "$.status == \"U;P\" ")) {
            if (holds.contains("U;P")) {
                assertEquals("'" + holds.strip() + "' does not hold: the value is \"UP\"", fails(holds.strip()));
                continue;
            }
            assertNull(holds, fails(holds.strip()));
        }
    }

    @Test
    public void whatAFailureSays() {
        assertEquals("'$.status == \"DOWN\"' does not hold: the value is \"UP\"", fails("$.status == \"DOWN\""));
        assertEquals("'$.items.length() > 5' does not hold: the length is 3", fails("$.items.length() > 5"));
        assertEquals("'$.status > 1': the value is \"UP\", not a number", fails("$.status > 1"));
        assertEquals("'$.n =~ \"1\"': the value is 10, not a string", fails("$.n =~ \"1\""));
        assertEquals("'$.n.length() == 2': the value is 10, which has no length", fails("$.n.length() == 2"));
        assertEquals("'$.items[7] == 1': the body has no value there", fails("$.items[7] == 1"));
        assertEquals("'/status/deeper': the body has no value there", fails("/status/deeper"));
        // several conditions, separated by ';' outside quotes
        List<JsonCondition> all = JsonCondition.parseAll("$.status == \"a;b\"; $.n > 1 ;");
        assertEquals(2, all.size());
        assertEquals("$.status == \"a;b\"", all.get(0).text());
    }

    @Test
    public void badConditionsAreRefusedNamingWhatIsWrong() {
        assertEquals("'$.status == UP': 'UP' is not a JSON literal (a \"quoted string\", a number, true, false or null)",
                refused("$.status == UP"));
        assertEquals("'$.n > \"5\"': > compares numbers, and \"5\" is not one", refused("$.n > \"5\""));
        assertEquals("'status == 1': 'status' is neither a JSON Pointer (/a/0) nor a JSONPath ($.a[0])", refused("status == 1"));
        assertEquals("'$.items[*] == 1': [*] in '$.items[*]' is neither an index nor a quoted name (filters and wildcards name many"
                + " values)", refused("$.items[*] == 1"));
        assertEquals("'$..name == 1': '$..name' must name one value (no .., no *)", refused("$..name == 1"));
        assertEquals("'$.s =~ \"(\"': not a regular expression: Unclosed group", refused("$.s =~ \"(\""));
        assertEquals("'$.s =~ 5': =~ takes a quoted regular expression and a path to a string", refused("$.s =~ 5"));
        assertEquals("'$.items.length() == \"3\"': a length is compared with a number, not \"3\"", refused("$.items.length() == \"3\""));
        assertEquals("'$.items.length()': a length is compared with a number (length(PATH) > 0)", refused("$.items.length()"));
        assertEquals("'$.a == {}': '{}' is not a JSON literal (a \"quoted string\", a number, true, false or null)", refused("$.a == {}"));
        assertEquals("no condition in ' ; '", refused(" ; "));
    }
}
