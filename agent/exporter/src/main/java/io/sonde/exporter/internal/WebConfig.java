package io.sonde.exporter.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.security.crypto.bcrypt.BCrypt;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The agent's web configuration, in the file format of the Prometheus exporter-toolkit
 * ({@code --web.config.file} of node_exporter and blackbox_exporter), so that one file serves all
 * of them: {@code tls_server_config} (cert_file, key_file, client_auth_type, client_ca_file,
 * min_version, max_version) and {@code basic_auth_users} (name: bcrypt hash). Relative file
 * names are taken from the configuration file's directory. A key it does not know, a file it
 * cannot read, a hash that is not bcrypt: an error naming it, and no listener on a half-read
 * configuration.
 */
final class WebConfig {

    static final Set<String> TOP = Set.of("tls_server_config", "basic_auth_users", "http_server_config");
    static final Set<String> TLS = Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version",
            "cipher_suites", "prefer_server_cipher_suites", "curve_preferences");
    static final Set<String> CLIENT_AUTH = Set.of("NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
            "RequireAndVerifyClientCert");

    /** The server's key and chain in a key store, and what it asks of clients. */
    record Tls(KeyStore keyStore, char[] password, KeyStore clientCas, String clientAuth, String minVersion, String maxVersion) {
    }

    private final Path file;
    private final Tls tls;
    private final Map<String, String> users;
    /** Name and password pairs checked right, by their SHA-256: bcrypt is slow on purpose, a scrape every 15 s need not pay it. */
    private final Set<String> checked = ConcurrentHashMap.newKeySet();

    private WebConfig(Path file, Tls tls, Map<String, String> users) {
        this.file = file;
        this.tls = tls;
        this.users = users;
    }

    Path file() {
        return file;
    }

    /**
     * @return what the files of a web configuration look like now (their names, sizes and times,
     *         the certificate and key files it names too), to see that they changed; null for none
     */
    static String stamp(Path file) {
        if (file == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        List<Path> files = new ArrayList<>(List.of(file));
        try {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file, StandardCharsets.UTF_8));
            if (doc instanceof Map<?, ?> top && top.get("tls_server_config") instanceof Map<?, ?> tls) {
                for (String k : List.of("cert_file", "key_file", "client_ca_file")) {
                    if (tls.get(k) != null) {
                        files.add(resolve(file, tls.get(k)));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // the file itself says it changed
        }
        for (Path p : files) {
            try {
                b.append(p).append(' ').append(Files.size(p)).append(' ').append(Files.getLastModifiedTime(p).toMillis()).append('\n');
            } catch (IOException e) {
                b.append(p).append(" missing\n");
            }
        }
        return b.toString();
    }

    /** @return the TLS settings, or null to serve plain HTTP */
    Tls tls() {
        return tls;
    }

    /** @return whether requests must carry a user's name and password */
    boolean needsLogin() {
        return !users.isEmpty();
    }

    /** @return whether the request's Authorization header names a user with the right password */
    boolean allows(String authorization) {
        if (users.isEmpty()) {
            return true;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        String pair;
        try {
            pair = new String(Base64.getDecoder().decode(authorization.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return false;
        }
        int colon = pair.indexOf(':');
        if (colon < 0) {
            return false;
        }
        String hash = users.get(pair.substring(0, colon));
        String key = fingerprint(pair);
        if (hash != null && checked.contains(key)) {
            return true;
        }
        // a hash is checked even for a user not known, so that both take as long
        boolean ok = BCrypt.checkpw(pair.substring(colon + 1), hash != null ? hash : DUMMY) && hash != null;
        if (ok && checked.size() < 1000) {
            checked.add(key);
        }
        return ok;
    }

    private static final String DUMMY = BCrypt.hashpw("not anyone's password", BCrypt.gensalt(10));

    private static String fingerprint(String pair) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(pair.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a web configuration file.
     *
     * @throws IllegalArgumentException saying what is wrong, and where
     */
    static WebConfig read(Path file) {
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot be read (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": not YAML (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (doc == null) {
            return new WebConfig(file, null, Map.of());
        }
        Map<String, Object> top = map(doc, file + "");
        for (String k : top.keySet()) {
            if (!TOP.contains(k)) {
                throw new IllegalArgumentException(file + ": key '" + k + "' is not one of " + new java.util.TreeSet<>(TOP));
            }
        }
        Tls tls = top.get("tls_server_config") == null ? null : tls(file, map(top.get("tls_server_config"), file + ": tls_server_config"));
        Map<String, String> users = new LinkedHashMap<>();
        if (top.get("basic_auth_users") != null) {
            for (Map.Entry<String, Object> u : map(top.get("basic_auth_users"), file + ": basic_auth_users").entrySet()) {
                String hash = u.getValue() == null ? "" : String.valueOf(u.getValue());
                if (!hash.matches("\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}")) {
                    throw new IllegalArgumentException(file + ": basic_auth_users." + u.getKey() + ": not a bcrypt hash ($2y$10$...;"
                            + " make one with htpasswd -nBC 10 '' | tr -d ':\\n')");
                }
                users.put(u.getKey(), hash);
            }
        }
        if (top.get("http_server_config") != null) {
            Map<String, Object> http = map(top.get("http_server_config"), file + ": http_server_config");
            for (String k : http.keySet()) {
                throw new IllegalArgumentException(file + ": http_server_config." + k + ": not supported by this agent");
            }
        }
        return new WebConfig(file, tls, Map.copyOf(users));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o, String where) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(where + ": a mapping was expected");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue());
        }
        return out;
    }

    private static Tls tls(Path file, Map<String, Object> c) {
        String where = file + ": tls_server_config";
        for (String k : c.keySet()) {
            if (!TLS.contains(k)) {
                throw new IllegalArgumentException(where + ": key '" + k + "' is not one of " + new java.util.TreeSet<>(TLS));
            }
        }
        Object cert = c.get("cert_file");
        Object key = c.get("key_file");
        if (cert == null || key == null) {
            throw new IllegalArgumentException(where + ": cert_file and key_file are both needed");
        }
        String clientAuth = c.get("client_auth_type") == null ? "NoClientCert" : String.valueOf(c.get("client_auth_type"));
        if (!CLIENT_AUTH.contains(clientAuth)) {
            throw new IllegalArgumentException(where + ".client_auth_type: '" + clientAuth + "' is not one of " + new java.util.TreeSet<>(CLIENT_AUTH));
        }
        KeyStore cas = null;
        if (c.get("client_ca_file") != null) {
            cas = trust(resolve(file, c.get("client_ca_file")), where + ".client_ca_file");
        } else if (clientAuth.contains("Verify")) {
            throw new IllegalArgumentException(where + ": client_auth_type " + clientAuth + " needs client_ca_file");
        }
        try {
            Path certFile = resolve(file, cert);
            Path keyFile = resolve(file, key);
            List<Certificate> chain = certificates(certFile, where + ".cert_file");
            PrivateKey pk = privateKey(keyFile, where + ".key_file");
            char[] password = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", pk, password, chain.toArray(new Certificate[0]));
            return new Tls(ks, password, cas, clientAuth, version(c.get("min_version"), where + ".min_version"),
                    version(c.get("max_version"), where + ".max_version"));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static String version(Object v, String where) {
        if (v == null) {
            return null;
        }
        return switch (String.valueOf(v)) {
            case "TLS12" -> "TLSv1.2";
            case "TLS13" -> "TLSv1.3";
            default -> throw new IllegalArgumentException(where + ": '" + v + "' is not TLS12 or TLS13");
        };
    }

    private static Path resolve(Path file, Object name) {
        Path p = Path.of(String.valueOf(name));
        return p.isAbsolute() ? p : file.toAbsolutePath().getParent().resolve(p);
    }

    private static List<Certificate> certificates(Path pem, String where) throws IOException, GeneralSecurityException {
        byte[] bytes = readable(pem, where);
        List<Certificate> out = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes)));
        if (out.isEmpty()) {
            throw new IllegalArgumentException(where + ": " + pem + " holds no PEM certificate");
        }
        return out;
    }

    private static KeyStore trust(Path pem, String where) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certificates(pem, where)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(Path pem, String where) throws IOException, GeneralSecurityException {
        String text = new String(readable(pem, where), StandardCharsets.US_ASCII);
        if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY") || text.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
            throw new IllegalArgumentException(where + ": " + pem + " is not an unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert it with"
                    + " openssl pkcs8 -topk8 -nocrypt -in " + pem.getFileName());
        }
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(where + ": " + pem + " holds no PEM private key (BEGIN PRIVATE KEY)");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (java.security.spec.InvalidKeySpecException e) {
                // the next algorithm
            }
        }
        throw new IllegalArgumentException(where + ": " + pem + " is not an RSA, EC or Ed25519 key");
    }

    private static byte[] readable(Path file, String where) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot read " + file + " (" + e.getMessage() + ")");
        }
    }
}
