package io.sonde.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A real headless Chromium (Debian's), driven through the DevTools protocol over its WebSocket:
 * open a page, run script in it, press the mouse, take a screenshot. Its own profile in a
 * temporary directory; stopped by its process id.
 */
final class Browser implements AutoCloseable {

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonObject>> calls = new ConcurrentHashMap<>();

    private Browser(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    static Browser start() throws Exception {
        Path profile = Files.createTempDirectory("sonde-chromium-");
        String binary = Files.isExecutable(Path.of("/usr/lib/chromium/chromium")) ? "/usr/lib/chromium/chromium" : "chromium";
        Process p = new ProcessBuilder(binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--ignore-certificate-errors", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=1400,1000",
                "about:blank").redirectErrorStream(true).redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile()).start();
        Path active = profile.resolve("DevToolsActivePort");
        for (int i = 0; i < 300 && !Files.exists(active); i++) {
            Thread.sleep(100);
        }
        if (!Files.exists(active)) {
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not start: " + Files.readString(profile.resolveSibling(profile.getFileName() + ".log")));
        }
        Thread.sleep(200);
        int port = Integer.parseInt(Files.readAllLines(active).get(0).strip());
        HttpClient http = HttpClient.newHttpClient();
        String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String ws = null;
        for (JsonElement e : JsonParser.parseString(list).getAsJsonArray()) {
            if (e.getAsJsonObject().get("type").getAsString().equals("page")) {
                ws = e.getAsJsonObject().get("webSocketDebuggerUrl").getAsString();
                break;
            }
        }
        Browser[] self = new Browser[1];
        StringBuilder partial = new StringBuilder();
        WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(ws), new WebSocket.Listener() {
            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    JsonObject m = JsonParser.parseString(partial.toString()).getAsJsonObject();
                    partial.setLength(0);
                    if (m.has("id") && self[0] != null) {
                        CompletableFuture<JsonObject> f = self[0].calls.remove(m.get("id").getAsInt());
                        if (f != null) {
                            f.complete(m);
                        }
                    }
                }
                w.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        self[0] = new Browser(p, profile, socket);
        self[0].call("Page.enable", new JsonObject());
        self[0].call("Runtime.enable", new JsonObject());
        return self[0];
    }

    /** Sends one DevTools command; @return its result, or throws with its error */
    JsonObject call(String method, JsonObject params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonObject> f = new CompletableFuture<>();
        calls.put(id, f);
        JsonObject m = new JsonObject();
        m.addProperty("id", id);
        m.addProperty("method", method);
        m.add("params", params);
        socket.sendText(m.toString(), true).get(10, TimeUnit.SECONDS);
        JsonObject answer = f.get(60, TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + ": " + answer.get("error"));
        }
        return answer.getAsJsonObject("result");
    }

    void open(String url) throws Exception {
        JsonObject p = new JsonObject();
        p.addProperty("url", url);
        call("Page.navigate", p);
        await("the page loaded", 30, "document.readyState === 'complete'");
    }

    /** Opens the server's dashboard, signs in through its login page and waits for the landing page. */
    void logIn(String serverUrl, String user, String password) throws Exception {
        open(serverUrl + "/");
        await("the login page", 20, "location.pathname === '/ui/login' && document.getElementById('login')");
        JsonObject p = new JsonObject();
        p.addProperty("user", user);
        p.addProperty("password", password);
        eval("const c = " + p + "; document.getElementById('user').value = c.user; document.getElementById('password').value = c.password;"
                + " document.getElementById('login').requestSubmit(); true");
        await("the landing page", 30, "window.__sonde && window.__sonde.view === 'now'");
    }

    /** @return the value of a script run in the page (promises awaited), as JSON */
    JsonElement eval(String script) throws Exception {
        JsonObject p = new JsonObject();
        p.addProperty("expression", script);
        p.addProperty("returnByValue", true);
        p.addProperty("awaitPromise", true);
        JsonObject r = call("Runtime.evaluate", p);
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("script failed: " + r.get("exceptionDetails"));
        }
        JsonObject v = r.getAsJsonObject("result");
        return v.has("value") ? v.get("value") : com.google.gson.JsonNull.INSTANCE;
    }

    String text(String script) throws Exception {
        JsonElement e = eval(script);
        return e.isJsonNull() ? null : e.getAsString();
    }

    /** Waits until a script in the page is true. */
    void await(String what, int seconds, String condition) throws Exception {
        for (int i = 0; i < seconds * 10; i++) {
            try {
                JsonElement v = eval("!!(" + condition + ")");
                if (v.isJsonPrimitive() && v.getAsBoolean()) {
                    return;
                }
            } catch (IllegalStateException e) {
                // the page is changing under the script
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " within " + seconds + " s (" + condition + "); at " + text("location.href") + ": "
                + text("document.body ? document.body.innerText.substring(0, 2000) : ''"));
    }

    /** Presses the left button at one point and lets it go at another, moving in steps (a drag). */
    void drag(double x1, double y1, double x2, double y2) throws Exception {
        mouse("mousePressed", x1, y1);
        for (int i = 1; i <= 10; i++) {
            mouse("mouseMoved", x1 + (x2 - x1) * i / 10, y1 + (y2 - y1) * i / 10);
        }
        mouse("mouseReleased", x2, y2);
    }

    private void mouse(String type, double x, double y) throws Exception {
        JsonObject p = new JsonObject();
        p.addProperty("type", type);
        p.addProperty("x", x);
        p.addProperty("y", y);
        p.addProperty("button", "left");
        p.addProperty("buttons", type.equals("mouseReleased") ? 0 : 1);
        p.addProperty("clickCount", 1);
        call("Input.dispatchMouseEvent", p);
    }

    void screenshot(Path file) throws Exception {
        JsonObject p = new JsonObject();
        p.addProperty("format", "png");
        p.addProperty("captureBeyondViewport", true);
        JsonObject r = call("Page.captureScreenshot", p);
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(r.get("data").getAsString()));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        socket.abort();
        // Chromium's helpers (zygote, renderers, crash handler) may outlive the main process for a
        // moment and still write into the profile: stop each of them by the handle we started.
        List<ProcessHandle> helpers = process.descendants().collect(Collectors.toList());
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle h : helpers) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : helpers) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // reported below if the profile cannot be removed
            }
        }
        for (int attempt = 1; ; attempt++) {
            try {
                AgentProcess.run("rm", "-rf", profile.toString());
                return;
            } catch (IOException e) {
                if (attempt == 5) {
                    throw e;
                }
                Thread.sleep(500);
            }
        }
    }
}
