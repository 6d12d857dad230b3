package io.sonde.server.alerts.internal;

import java.net.URI;
import java.util.List;
import java.util.Set;

import com.google.gson.JsonObject;

import io.sonde.wire.WireException;

/** A channel whose one key is the URL it posts to (Slack, Teams, Discord, a webhook, an Alertmanager). */
abstract class UrlChannel implements Channel {

    private final String type;
    private final boolean secret;

    /**
     * @param type   its type
     * @param secret whether the URL is a secret (a chat service's webhook: its path holds the token)
     */
    UrlChannel(String type, boolean secret) {
        this.type = type;
        this.secret = secret;
    }

    @Override
    public final String type() {
        return type;
    }

    @Override
    public List<String> keys() {
        return List.of("url");
    }

    @Override
    public final Set<String> secrets() {
        return secret ? Set.of("url") : Set.of();
    }

    @Override
    public void check(JsonObject body) throws WireException {
        ChannelKeys.url(body, "url", null);
    }

    @Override
    public final String where(JsonObject config) {
        return type + " " + ChannelKeys.host(url(config));
    }

    static URI url(JsonObject config) {
        return URI.create(config.get("url").getAsString());
    }
}
