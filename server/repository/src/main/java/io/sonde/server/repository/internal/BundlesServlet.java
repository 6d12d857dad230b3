package io.sonde.server.repository.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.Servlet;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletMultipart;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Principal;
import io.sonde.server.spi.Release;
import io.sonde.server.spi.ReleaseStore;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The bundle repository: {@code POST /api/v1/bundles} (admin; {@code multipart/form-data} with the
 * parts {@code manifest} and {@code jar}) takes a release only when a trusted key signed its
 * manifest and the jar is the bytes and the bundle the manifest names; {@code GET /api/v1/bundles}
 * (admin) lists them; {@code GET /api/v1/bundles/{name}/{version}} (admin, agents) is the manifest as
 * signed, {@code .../jar} the jar, streamed from this instance's disk copy, with byte ranges so an
 * agent resumes a cut download.
 */
@Component(service = Servlet.class, configurationPid = RepositoryConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = RepositoryConfig.class)
@HttpWhiteboardServletPattern({"/api/v1/bundles", "/api/v1/bundles/*"})
@HttpWhiteboardServletMultipart(enabled = true, fileSizeThreshold = 256 * 1024, maxFileSize = 1L << 30, maxRequestSize = 1L << 30)
public final class BundlesServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BundlesServlet.class);
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    private final transient ReleaseStore store;
    private final transient List<PublicKey> trusted;
    private final long maxBytes;
    private final transient Path dir;

    @Activate
    public BundlesServlet(BundleContext context, @Reference ReleaseStore store, RepositoryConfig config) {
        this.store = store;
        this.maxBytes = Math.max(1, config.max__bundle__mb()) * 1024L * 1024L;
        List<PublicKey> keys = new ArrayList<>();
        for (String k : config.trusted__keys().split(",")) {
            if (!k.isBlank()) {
                try {
                    keys.add(ReleaseManifest.publicKey(k));
                } catch (IllegalArgumentException e) {
                    LOG.error("Configuration error: etc/{}.cfg: key 'trusted_keys': '{}' is {}; it is not trusted", RepositoryConfig.PID,
                            WireCodec.abbreviate(k.strip()), e.getMessage());
                }
            }
        }
        this.trusted = List.copyOf(keys);
        Path home = io.sonde.base.Home.of(context::getProperty);
        this.dir = home.resolve("data").resolve("bundles");
        if (trusted.isEmpty()) {
            LOG.info("Bundle repository: no trusted release key (trusted_keys in etc/{}.cfg): uploads are refused", RepositoryConfig.PID);
        } else {
            LOG.info("Bundle repository: trusts release keys {}", trusted.stream().map(ReleaseManifest::keyId).toList());
        }
    }

    /** @return name and version (and "jar") of the path after /api/v1/bundles, or null for the list itself */
    private static String[] parts(HttpServletRequest request) {
        String info = request.getPathInfo();
        if (info == null || info.equals("/")) {
            return null;
        }
        String[] p = info.substring(1).split("/", -1);
        for (int i = 0; i < p.length; i++) {
            p[i] = URLDecoder.decode(p[i], StandardCharsets.UTF_8);
        }
        return p;
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        if (parts(request) != null) {
            Api.error(response, 405, "POST takes a release at /api/v1/bundles");
            return;
        }
        String type = request.getContentType();
        if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
            Api.error(response, 415, "a release is multipart/form-data with the parts manifest and jar (Content-Type was "
                    + (type == null ? "missing" : "'" + WireCodec.abbreviate(type) + "'") + ")");
            return;
        }
        if (trusted.isEmpty()) {
            Api.error(response, 409, "this server trusts no release key: set trusted_keys in etc/" + RepositoryConfig.PID + ".cfg");
            return;
        }
        Files.createDirectories(dir.resolve("incoming"));
        Path jar = Files.createTempFile(dir.resolve("incoming"), "upload-", ".jar");
        try {
            Part manifestPart;
            Part jarPart;
            try {
                manifestPart = request.getPart("manifest");
                jarPart = request.getPart("jar");
            } catch (IllegalStateException | IOException | ServletException e) {
                Api.error(response, 400, "the multipart body cannot be read: " + e.getMessage());
                return;
            }
            if (manifestPart == null || jarPart == null) {
                Api.error(response, 400, (manifestPart == null ? "manifest" : "jar") + ": missing; a release has the parts manifest"
                        + " (the .manifest.json bin/sonde-release sign wrote) and jar");
                return;
            }
            if (manifestPart.getSize() > ReleaseManifest.MAX_BYTES) {
                Api.error(response, 413, "manifest: " + manifestPart.getSize() + " bytes, at most " + ReleaseManifest.MAX_BYTES);
                return;
            }
            if (jarPart.getSize() > maxBytes) {
                Api.error(response, 413, "jar: " + jarPart.getSize() + " bytes, at most " + maxBytes + " (max_bundle_mb)");
                return;
            }
            ReleaseManifest m;
            String manifestText;
            try (InputStream in = manifestPart.getInputStream()) {
                byte[] bytes = in.readNBytes(ReleaseManifest.MAX_BYTES + 1);
                manifestText = new String(bytes, StandardCharsets.UTF_8);
                m = WireCodec.read(new java.io.ByteArrayInputStream(bytes), false, ReleaseManifest.MAX_BYTES, ReleaseManifest.class);
            } catch (WireException e) {
                Api.error(response, 400, "manifest: " + e.getMessage());
                return;
            }
            try (InputStream in = jarPart.getInputStream()) {
                Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
            }
            PublicKey by;
            try {
                by = m.verify(trusted);
                m.checkJar(jar);
            } catch (WireException e) {
                LOG.warn("Release upload refused: {} {}: {}", WireCodec.abbreviate(String.valueOf(m.symbolicName())),
                        WireCodec.abbreviate(String.valueOf(m.version())), e.getMessage());
                Api.error(response, 400, "release refused: " + e.getMessage());
                return;
            }
            Release r = new Release(m.symbolicName(), m.version(), m.sha256(), m.size(), manifestText.strip(), Instant.now());
            boolean stored;
            try (InputStream in = Files.newInputStream(jar)) {
                stored = store.putRelease(r, in);
            } catch (StoreException e) {
                Api.storeFailed(response, e, 409);
                return;
            }
            if (stored) {
                LOG.info("Release {} {} stored ({} bytes, SHA-256 {}, signed by release key {})", m.symbolicName(), m.version(), m.size(),
                        m.sha256(), ReleaseManifest.keyId(by));
            }
            Api.json(response, stored ? 201 : 200, view(r, m));
        } finally {
            Files.deleteIfExists(jar);
            for (Part p : partsOrNone(request)) {
                p.delete();
            }
        }
    }

    private static java.util.Collection<Part> partsOrNone(HttpServletRequest request) {
        try {
            return request.getParts();
        } catch (IOException | ServletException | IllegalStateException e) {
            return List.of();
        }
    }

    private static Map<String, Object> view(Release r, ReleaseManifest m) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("symbolic_name", r.symbolicName());
        v.put("version", r.version());
        v.put("sha256", r.sha256());
        v.put("size", r.size());
        v.put("key_id", m == null ? null : m.keyId());
        v.put("uploaded_at", r.uploadedAt().toString());
        return v;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String[] p = parts(request);
        Principal who = Api.principal(request);
        Api.answer(response, () -> {
            if (p == null) {
                if (!Api.requireAdmin(request, response)) {
                    return;
                }
                List<Map<String, Object>> items = new ArrayList<>();
                for (Release r : store.releases()) {
                    items.add(view(r, manifest(r)));
                }
                Map<String, Object> page = new LinkedHashMap<>();
                page.put("items", items);
                page.put("next", null);
                Api.json(response, 200, page);
                return;
            }
            // the admin, or any agent: an agent fetches what its rollout names
            if (who == null || !(who.admin() || who.agentId() != null)) {
                Api.error(response, 401, "a credential is needed");
                return;
            }
            if (p.length < 2 || p.length > 3 || (p.length == 3 && !p[2].equals("jar"))) {
                Api.error(response, 404, "no such resource: " + request.getRequestURI()
                        + " (/api/v1/bundles/{symbolic_name}/{version}[/jar])");
                return;
            }
            Optional<Release> r = store.release(p[0], p[1]);
            if (r.isEmpty()) {
                Api.error(response, 404, "no release " + WireCodec.abbreviate(p[0]) + " " + WireCodec.abbreviate(p[1]));
                return;
            }
            if (p.length == 2) {
                byte[] body = r.get().manifest().getBytes(StandardCharsets.UTF_8);
                response.setStatus(200);
                response.setContentType("application/json");
                response.setContentLength(body.length);
                try (OutputStream out = response.getOutputStream()) {
                    out.write(body);
                }
                return;
            }
            serveJar(r.get(), request, response);
        });
    }

    private static ReleaseManifest manifest(Release r) {
        try {
            return WireCodec.gson().fromJson(r.manifest(), ReleaseManifest.class);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Streams the jar from this instance's copy on disk (made from the store on first demand, checked
     * against its SHA-256), whole or the one byte range asked for.
     */
    private void serveJar(Release r, HttpServletRequest request, HttpServletResponse response) throws IOException, StoreException {
        Path file = cached(r);
        long size = r.size();
        long from = 0;
        long to = size - 1;
        String range = request.getHeader("Range");
        boolean partial = false;
        if (range != null) {
            Matcher m = RANGE.matcher(range.strip());
            boolean ok = m.matches() && !(m.group(1).isEmpty() && m.group(2).isEmpty());
            if (ok) {
                try {
                    if (m.group(1).isEmpty()) { // the last n bytes
                        from = Math.max(0, size - Long.parseLong(m.group(2)));
                    } else {
                        from = Long.parseLong(m.group(1));
                        to = m.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(m.group(2)));
                    }
                    ok = from <= to && from < size;
                } catch (NumberFormatException e) {
                    ok = false; // beyond any length: not within the jar
                }
            }
            if (!ok) {
                response.setHeader("Content-Range", "bytes */" + size);
                Api.error(response, 416, "Range: '" + WireCodec.abbreviate(range) + "' is not one range within the " + size + " bytes");
                return;
            }
            partial = true;
        }
        response.setStatus(partial ? 206 : 200);
        response.setContentType("application/java-archive");
        response.setHeader("Accept-Ranges", "bytes");
        response.setHeader("ETag", "\"" + r.sha256() + "\"");
        if (partial) {
            response.setHeader("Content-Range", "bytes " + from + "-" + to + "/" + size);
        }
        response.setContentLengthLong(to - from + 1);
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            copy(ch, from, to, response);
        } catch (IOException e) {
            // the agent went away mid-download (it resumes from where it got to): nothing to report, nothing to log at length
            LOG.debug("Download of {} {} cut off: {}", r.symbolicName(), r.version(), e.toString());
        }
    }

    /** Writes bytes {@code from..to} of the file to the response, 64 KiB at a time. */
    private static void copy(java.nio.channels.FileChannel ch, long from, long to, HttpServletResponse response) throws IOException {
        try (OutputStream out = response.getOutputStream()) {
            InputStream in = java.nio.channels.Channels.newInputStream(ch.position(from));
            byte[] buf = new byte[64 * 1024];
            long left = to - from + 1;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    /** @return this instance's copy of the jar, made from the store once and checked against its SHA-256 */
    private Path cached(Release r) throws IOException, StoreException {
        Path cache = dir.resolve("cache");
        Path file = cache.resolve(r.sha256() + ".jar");
        if (Files.exists(file) && Files.size(file) == r.size()) {
            return file;
        }
        StoreException[] failed = {null};
        try {
            // the jar is checked as it streams: a file whose bytes are not the release's is never in the cache
            io.sonde.base.AtomicFiles.write(file, out -> {
                java.security.DigestOutputStream d;
                try {
                    d = new java.security.DigestOutputStream(out, java.security.MessageDigest.getInstance("SHA-256"));
                    store.copyReleaseJar(r.symbolicName(), r.version(), d);
                } catch (StoreException e) {
                    failed[0] = e;
                    throw new IOException(e.getMessage(), e);
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
                String sha = java.util.HexFormat.of().formatHex(d.getMessageDigest().digest());
                if (!sha.equals(r.sha256())) {
                    throw new IOException("the stored jar of " + r.symbolicName() + " " + r.version() + " has SHA-256 " + sha + ", not "
                            + r.sha256());
                }
            }, null);
        } catch (IOException e) {
            if (failed[0] != null) {
                throw failed[0];
            }
            throw e;
        }
        return file;
    }
}
