package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;

import javax.net.ssl.SSLContext;

import com.google.gson.JsonObject;

import io.sonde.wire.WireException;

/**
 * A kind of receiver (Slack, PagerDuty, email, ...): which keys its definition takes, which of them
 * are secrets (never shown by the API, never logged), and how it says a {@link Message}. Each
 * channel owns its keys and its output; {@link Receiver} holds what they share (name, type,
 * templates).
 */
interface Channel {

    /** How a channel sends. */
    interface Transport {
        /**
         * POSTs a body and reads the answer (10 s at most); the receivers' CA file is trusted beside the JDK's.
         *
         * @param headers names and values in turn
         */
        HttpResponse<String> post(URI uri, String contentType, byte[] body, String... headers) throws IOException, InterruptedException;

        /** @return the TLS context of HTTPS receivers, for SMTP over TLS too */
        SSLContext tls();

        /** @return the value of a webhook's signature header for a body signed at {@code timestamp} (the server's webhook key) */
        String signature(long timestamp, byte[] body);
    }

    /** @return its {@code type} in a receiver's definition */
    String type();

    /** @return the keys of its definition besides {@code type}, {@code title} and {@code text} */
    List<String> keys();

    /** @return those of its keys that hold secrets */
    Set<String> secrets();

    /**
     * Checks the channel's keys of a definition and writes their defaults into it.
     *
     * @param body the definition, changed in place (defaults written, values stripped)
     * @throws WireException naming the key at fault
     */
    void check(JsonObject body) throws WireException;

    /**
     * Sends one message.
     *
     * @param config the receiver's checked definition, secrets included
     * @param title  the rendered title template
     * @param text   the rendered text template
     * @throws IOException saying why it was not delivered
     */
    void send(JsonObject config, Message message, String title, String text, Transport transport) throws IOException, InterruptedException;

    /** @return where it sends, for logs and metrics: never a secret (no URL path, no token) */
    String where(JsonObject config);

    /** The channels built in. */
    List<Channel> ALL = List.of(new SlackChannel(), new TeamsChannel(), new DiscordChannel(), new PagerDutyChannel(), new OpsgenieChannel(),
            new TelegramChannel(), new EmailChannel(), new WebhookChannel(), new AlertmanagerChannel());

    /** @return the channel of that type, or null */
    static Channel of(String type) {
        for (Channel c : ALL) {
            if (c.type().equals(type)) {
                return c;
            }
        }
        return null;
    }
}
