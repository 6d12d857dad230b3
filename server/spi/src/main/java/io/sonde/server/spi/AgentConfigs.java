package io.sonde.server.spi;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agents' configuration documents: the targets whose selector takes an agent, and the peers
 * its meshes give it. Made by the server's configuration bundle from the definitions and the
 * agents, the same on every server instance over one store.
 */
@ProviderType
public interface AgentConfigs {

    /**
     * An agent's document.
     *
     * @param version its version: a hash of its content, also its HTTP entity tag
     * @param json    the document, JSON
     */
    record Document(String version, String json) {
    }

    /** @return the agent's document; empty for an agent that is not known or was revoked */
    Optional<Document> document(String agentId) throws StoreException;

    /**
     * @return the version of the agent's document, as cheaply as it can be had (an agent that asks
     *         with the version it has gets 304 without a document being made)
     */
    default Optional<String> version(String agentId) throws StoreException {
        return document(agentId).map(Document::version);
    }
}
