package io.sonde.server.spi;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The definitions the server distributes: targets, meshes, rollouts and the other named documents, by
 * type and name.
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface DefinitionStore {

    /**
     * Stores a definition, replacing the one of its type and name if there is one; several server
     * instances may store the same one at once.
     *
     * @return whether it replaced one
     */
    boolean putDefinition(Definition definition) throws StoreException;

    /** @return false if there was no such definition */
    boolean deleteDefinition(String type, String name) throws StoreException;

    /** @return the definitions of a type, by name */
    List<Definition> definitions(String type) throws StoreException;

    /** @return the definition of a type and name, if there is one */
    Optional<Definition> definition(String type, String name) throws StoreException;

    /** @return how many definitions of a type there are */
    int definitionCount(String type) throws StoreException;
}
