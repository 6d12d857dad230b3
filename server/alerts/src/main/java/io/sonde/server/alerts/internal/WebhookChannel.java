package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import com.google.gson.JsonObject;

/**
 * A webhook: the Sonde document as the outbox keeps it, signed with the server's HMAC-SHA256 key
 * ({@link Notifier#SIGNATURE} over {@link Notifier#TIMESTAMP} and the body), with the delivery's id
 * ({@link Notifier#DELIVERY}) the same on every try. The templates are not used: the document is
 * the message.
 */
final class WebhookChannel extends UrlChannel {

    WebhookChannel() {
        super("webhook", false);
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        byte[] body = m.payload().getBytes(StandardCharsets.UTF_8);
        long ts = Instant.now().getEpochSecond();
        ChannelKeys.expect2xx(transport.post(url(config), "application/json", body,
                Notifier.TIMESTAMP, Long.toString(ts), Notifier.SIGNATURE, transport.signature(ts, body), Notifier.DELIVERY, Long.toString(m.delivery())));
    }
}
