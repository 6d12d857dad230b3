package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;

/**
 * Email over SMTP (Jakarta Mail, Eclipse Angus, inside this bundle): STARTTLS required
 * ({@code tls = starttls}, port 587 by default), TLS from the first byte ({@code tls}, 465), or
 * none ({@code none}, 25: a relay on the same host only); the server's certificate checked against
 * the JDK's CAs and {@code alert_ca_file}, its name against the host; login when a
 * {@code username} is given (the {@code password} is a secret). The mail has the title as its
 * subject and the text as plain text and HTML.
 */
final class EmailChannel implements Channel {

    static final int MAX_RECIPIENTS = 50;
    static final int TIMEOUT_MS = 10_000;

    @Override
    public String type() {
        return "email";
    }

    @Override
    public List<String> keys() {
        return List.of("host", "port", "tls", "username", "password", "from", "to");
    }

    @Override
    public Set<String> secrets() {
        return Set.of("password");
    }

    private static String address(String key, String text) throws WireException {
        try {
            InternetAddress a = new InternetAddress(text, true);
            a.validate();
            return a.toString();
        } catch (AddressException e) {
            throw AlertRule.invalid(key + ": '" + WireCodec.abbreviate(text) + "' is not a mail address: " + e.getMessage());
        }
    }

    @Override
    public void check(JsonObject body) throws WireException {
        String host = ChannelKeys.string(body, "host", null, 253);
        if (!host.matches("[A-Za-z0-9.:\\-\\[\\]]+")) {
            throw AlertRule.invalid("host: '" + WireCodec.abbreviate(host) + "' is not a host name or address");
        }
        String tls = ChannelKeys.string(body, "tls", "starttls", 10);
        if (!List.of("starttls", "tls", "none").contains(tls)) {
            throw AlertRule.invalid("tls: '" + WireCodec.abbreviate(tls) + "' is not starttls, tls or none");
        }
        ChannelKeys.integer(body, "port", tls.equals("tls") ? 465 : tls.equals("starttls") ? 587 : 25, 1, 65535);
        String user = ChannelKeys.string(body, "username", "", 320);
        if (!user.isEmpty() && tls.equals("none")) {
            throw AlertRule.invalid("username: a login is never sent over a connection without TLS (tls = none); use starttls or tls");
        }
        if (!user.isEmpty()) {
            ChannelKeys.string(body, "password", null, 1000);
        } else if (body.has("password") && !body.get("password").isJsonNull()) {
            throw AlertRule.invalid("password: given without a username");
        }
        body.addProperty("from", address("from", ChannelKeys.string(body, "from", null, 320)));
        JsonElement to = body.get("to");
        if (to != null && to.isJsonPrimitive()) {
            JsonArray one = new JsonArray();
            one.add(to);
            to = one;
        }
        if (to == null || !to.isJsonArray() || to.getAsJsonArray().isEmpty()) {
            throw AlertRule.invalid("to: missing: a list of mail addresses");
        }
        if (to.getAsJsonArray().size() > MAX_RECIPIENTS) {
            throw AlertRule.invalid("to: " + to.getAsJsonArray().size() + " addresses, at most " + MAX_RECIPIENTS);
        }
        JsonArray checked = new JsonArray();
        for (int i = 0; i < to.getAsJsonArray().size(); i++) {
            JsonElement e = to.getAsJsonArray().get(i);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                throw AlertRule.invalid("to[" + i + "]: not a string");
            }
            checked.add(address("to[" + i + "]", e.getAsString().strip()));
        }
        body.add("to", checked);
    }

    @Override
    public String where(JsonObject config) {
        return "email smtp://" + config.get("host").getAsString() + ":" + config.get("port").getAsInt();
    }

    /** @return the mail's HTML part: the title, the text, the facts as a table, the link */
    static String html(Message m, String title, String text) {
        StringBuilder b = new StringBuilder("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
        String color = m.resolved() ? "#2e8b57" : m.test() ? "#3273dc" : "#d9363e";
        b.append("<h2 style=\"color:").append(color).append("\">").append(ChannelKeys.html(title)).append("</h2>");
        if (!text.isBlank()) {
            b.append("<p>").append(ChannelKeys.html(text).replace("\n", "<br>")).append("</p>");
        }
        b.append("<table cellpadding=\"4\">");
        for (String[] f : SlackChannel.facts(m)) {
            b.append("<tr><th align=\"left\">").append(ChannelKeys.html(f[0])).append("</th><td>").append(ChannelKeys.html(f[1])).append("</td></tr>");
        }
        b.append("</table>");
        if (!m.get("link").isEmpty()) {
            b.append("<p><a href=\"").append(ChannelKeys.html(m.get("link"))).append("\">Open in Sonde</a></p>");
        }
        return b.append("</body></html>").toString();
    }

    /** @return the mail's plain text: the text, then the facts */
    static String plain(Message m, String text) {
        StringBuilder b = new StringBuilder(text.strip()).append("\n\n");
        for (String[] f : SlackChannel.facts(m)) {
            b.append(f[0]).append(": ").append(f[1]).append('\n');
        }
        if (!m.get("link").isEmpty()) {
            b.append('\n').append(m.get("link")).append('\n');
        }
        return b.toString();
    }

    Properties properties(JsonObject config, Transport transport) {
        Properties p = new Properties();
        String tls = config.get("tls").getAsString();
        String proto = tls.equals("tls") ? "smtps" : "smtp";
        p.put("mail.transport.protocol", proto);
        p.put("mail." + proto + ".host", config.get("host").getAsString());
        p.put("mail." + proto + ".port", Integer.toString(config.get("port").getAsInt()));
        p.put("mail." + proto + ".connectiontimeout", Integer.toString(TIMEOUT_MS));
        p.put("mail." + proto + ".timeout", Integer.toString(TIMEOUT_MS));
        p.put("mail." + proto + ".writetimeout", Integer.toString(TIMEOUT_MS));
        try {
            p.put("mail." + proto + ".from", new InternetAddress(config.get("from").getAsString()).getAddress()); // the envelope's: no name
        } catch (AddressException e) {
            throw new IllegalStateException("from was checked when the receiver was saved", e);
        }
        p.put("mail." + proto + ".auth", Boolean.toString(!config.get("username").getAsString().isEmpty()));
        if (!tls.equals("none")) {
            p.put("mail." + proto + ".ssl.socketFactory", transport.tls().getSocketFactory());
            p.put("mail." + proto + ".ssl.checkserveridentity", "true");
        }
        if (tls.equals("starttls")) {
            p.put("mail.smtp.starttls.enable", "true");
            p.put("mail.smtp.starttls.required", "true");
        }
        if (tls.equals("tls")) {
            p.put("mail.smtps.ssl.enable", "true");
        }
        return p;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException {
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(EmailChannel.class.getClassLoader()); // Jakarta Mail finds its providers through it
        try {
            Properties p = properties(config, transport);
            Session session = Session.getInstance(p);
            MimeMessage mail = new MimeMessage(session);
            mail.setFrom(new InternetAddress(config.get("from").getAsString()));
            List<InternetAddress> to = new ArrayList<>();
            for (JsonElement e : config.getAsJsonArray("to")) {
                to.add(new InternetAddress(e.getAsString()));
            }
            mail.setRecipients(jakarta.mail.Message.RecipientType.TO, to.toArray(new InternetAddress[0]));
            mail.setSubject(ChannelKeys.cut(title.replace('\n', ' ').replace('\r', ' '), 250), StandardCharsets.UTF_8.name());
            mail.setSentDate(new Date());
            mail.setHeader("X-Sonde-Delivery", Long.toString(m.delivery()));
            mail.setHeader("Auto-Submitted", "auto-generated");
            MimeBodyPart plain = new MimeBodyPart();
            plain.setText(plain(m, text), StandardCharsets.UTF_8.name(), "plain");
            MimeBodyPart rich = new MimeBodyPart();
            rich.setText(html(m, title, text), StandardCharsets.UTF_8.name(), "html");
            MimeMultipart alternative = new MimeMultipart("alternative", plain, rich);
            mail.setContent(alternative);
            mail.saveChanges();
            String proto = p.getProperty("mail.transport.protocol");
            try (jakarta.mail.Transport smtp = session.getTransport(proto)) {
                String user = config.get("username").getAsString();
                smtp.connect(config.get("host").getAsString(), config.get("port").getAsInt(), user.isEmpty() ? null : user,
                        user.isEmpty() ? null : config.get("password").getAsString());
                smtp.sendMessage(mail, mail.getAllRecipients());
            }
        } catch (MessagingException e) {
            throw new IOException(reason(e), e);
        } finally {
            t.setContextClassLoader(before);
        }
    }

    /** @return why the mail was not sent, in one line: the deepest cause's message (an SMTP reply, a TLS failure) */
    static String reason(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()).strip());
        Throwable c = e.getCause();
        for (int i = 0; c != null && i < 4; i++, c = c.getCause()) {
            if (c.getMessage() != null && !b.toString().contains(c.getMessage().strip())) {
                b.append(": ").append(c.getMessage().strip());
            }
        }
        return WireCodec.abbreviate(b.toString().replace('\n', ' ').replace('\r', ' '));
    }
}
