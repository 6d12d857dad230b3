package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.Test;

public class AgentSelectorTest {

    static boolean selects(String selector, String... tags) {
        return AgentSelector.parse(selector).matches(Set.of(tags));
    }

    @Test
    public void aTagSelectsTheAgentsThatHaveIt() {
        assertTrue(selects("eu", "eu", "edge"));
        assertFalse(selects("eu", "us"));
        assertFalse("no agent has no tags", selects("eu"));
        assertTrue("key=value is one tag", selects("site=fra1", "site=fra1"));
        assertFalse(selects("site=fra1", "site=fra2", "site"));
        assertTrue(selects("*"));
        assertTrue(selects(" * ", "x"));
    }

    @Test
    public void notBindsClosestThenAndThenOr() {
        assertTrue(selects("eu AND NOT edge", "eu"));
        assertFalse(selects("eu AND NOT edge", "eu", "edge"));
        assertTrue("a OR b AND c is a OR (b AND c)", selects("a OR b AND c", "a"));
        assertFalse(selects("(a OR b) AND c", "a"));
        assertTrue(selects("NOT a AND b", "b"));
        assertFalse("NOT a AND b is (NOT a) AND b", selects("NOT a AND b"));
        assertTrue(selects("NOT (a AND b)"));
        assertTrue(selects("NOT NOT a", "a"));
        assertTrue("keywords in any case", selects("eu and not edge Or core", "core", "edge"));
        assertFalse("tags are not: as the agents carry them", selects("Core", "core"));
    }

    @Test
    public void theCanonicalTextParsesToAnEqualSelector() {
        String[][] cases = {
            {"eu  and   not edge", "eu AND NOT edge"},
            {"((a))", "a"},
            {"(a AND b) AND c", "a AND b AND c"},
            {"a OR (b OR c)", "a OR b OR c"},
            {"(a OR b) AND NOT (c AND d)", "(a OR b) AND NOT (c AND d)"},
            {"NOT (a OR b)", "NOT (a OR b)"},
            {"a OR b AND c", "a OR b AND c"},
            {"*", "*"},
        };
        for (String[] c : cases) {
            AgentSelector s = AgentSelector.parse(c[0]);
            assertEquals(c[0], c[1], s.toString());
            assertEquals(c[0], s, AgentSelector.parse(s.toString()));
        }
        assertEquals(List.of("a", "b", "c", "d"), AgentSelector.parse("(a OR b) AND NOT (c AND d)").tags());
    }

    @Test
    public void aSelectorThatDoesNotParseSaysWhereAndWhat() {
        refused(null, 1, "empty selector");
        refused("  ", 1, "empty selector");
        refused("eu AND", 7, "expected a tag, NOT or '(', found the end");
        refused("eu edge", 4, "expected AND, OR or the end, found tag 'edge'");
        refused("(eu OR us", 10, "to close the '(' at column 1");
        refused("eu)", 3, "')' without its '('");
        refused("eu AND ()", 9, "found ')'");
        refused("eu && us", 4, "'&' is not part of a tag");
        refused("eu AND -x", 8, "'-' is not part of a tag");
        refused("eu OR *", 7, "'*' stands alone");
        refused("* AND eu", 3, "expected AND, OR or the end, found AND");
        refused("café", 4, "'é' is not part of a tag");
        refused("a\u0000", 2, "'\\u0000'");
        refused("x".repeat(101), 1, "is not a tag");
        refused("a OR " + "x".repeat(AgentSelector.MAX_LENGTH), AgentSelector.MAX_LENGTH + 1, "longer than 1000");
        refused("(".repeat(40) + "a" + ")".repeat(40), 34, "nested deeper than 32");
        refused("NOT ".repeat(40) + "a", 133, "nested deeper than 32");
    }

    static void refused(String selector, int column, String text) {
        try {
            AgentSelector.parse(selector);
            fail("accepted: " + selector);
        } catch (AgentSelector.ParseException e) {
            assertTrue(selector + ": " + e.getMessage(), e.getMessage().contains(text));
            assertEquals(selector + ": " + e.getMessage(), column, e.column());
            assertTrue(e.getMessage().startsWith("at column " + column + ": "));
        }
    }

    /** Random selectors against a truth table built another way: each evaluated directly by Java. */
    @Test
    public void randomSelectorsAgreeWithTheirMeaning() {
        Random random = new Random(7);
        String[] names = {"a", "b", "c", "site=x"};
        for (int round = 0; round < 2000; round++) {
            StringBuilder text = new StringBuilder();
            Expr e = randomExpr(random, names, 4, text);
            AgentSelector s = AgentSelector.parse(text.toString());
            for (int mask = 0; mask < 16; mask++) {
                List<String> tags = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    if ((mask & 1 << i) != 0) {
                        tags.add(names[i]);
                    }
                }
                assertEquals(text + " with " + tags, e.eval(tags), s.matches(tags));
                assertEquals(s.toString() + " with " + tags, e.eval(tags), AgentSelector.parse(s.toString()).matches(tags));
            }
        }
    }

    interface Expr {
        boolean eval(List<String> tags);
    }

    /** Writes a fully parenthesised expression, so its meaning does not depend on precedence. */
    static Expr randomExpr(Random r, String[] names, int depth, StringBuilder out) {
        int pick = depth == 0 ? 0 : r.nextInt(4);
        switch (pick) {
            case 1: {
                out.append("NOT (");
                Expr inner = randomExpr(r, names, depth - 1, out);
                out.append(")");
                return tags -> !inner.eval(tags);
            }
            case 2:
            case 3: {
                out.append("(");
                Expr left = randomExpr(r, names, depth - 1, out);
                out.append(pick == 2 ? ") and (" : ") OR (");
                Expr right = randomExpr(r, names, depth - 1, out);
                out.append(")");
                return pick == 2 ? tags -> left.eval(tags) && right.eval(tags) : tags -> left.eval(tags) || right.eval(tags);
            }
            default: {
                String name = names[r.nextInt(names.length)];
                out.append(name);
                return tags -> tags.contains(name);
            }
        }
    }

    @Test
    public void tagsFollowTheOneRule() {
        assertTrue(AgentSelector.isTag("site=fra1"));
        assertTrue(AgentSelector.isTag("a/b:c_d.e-f"));
        assertFalse(AgentSelector.isTag("-a"));
        assertFalse(AgentSelector.isTag(""));
        assertFalse(AgentSelector.isTag(null));
        assertFalse(AgentSelector.isTag("a b"));
        assertFalse(AgentSelector.isTag("x".repeat(101)));
    }
}
