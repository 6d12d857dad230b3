package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The dashboard's and the API's users and their credentials (sessions and API tokens, as SHA-256
 * hashes).
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface UserStore {

    /** Stores a user in place of the one of that name. @since 1.4 */
    void putUser(User user) throws StoreException;

    /** @return the user of that name @since 1.4 */
    Optional<User> user(String name) throws StoreException;

    /** @return every user, by name @since 1.4 */
    List<User> users() throws StoreException;

    /** Deletes a user and every session and token of theirs. @return false if there was none @since 1.4 */
    boolean deleteUser(String name) throws StoreException;

    /** Keeps a user's session or token by the SHA-256 of its secret. @since 1.4 */
    void putUserCredential(byte[] hash, UserCredential credential) throws StoreException;

    /** @return the session or token whose secret has this hash, expired or not @since 1.4 */
    Optional<UserCredential> userCredential(byte[] hash) throws StoreException;

    /** @return a user's sessions and tokens @since 1.4 */
    List<UserCredential> userCredentials(String user) throws StoreException;

    /** Forgets a session or token by its id. @return false if there was none @since 1.4 */
    boolean deleteUserCredential(String id) throws StoreException;

    /** Forgets the sessions and tokens that expired before {@code now}. @return how many @since 1.4 */
    int dropExpiredUserCredentials(Instant now) throws StoreException;
}
