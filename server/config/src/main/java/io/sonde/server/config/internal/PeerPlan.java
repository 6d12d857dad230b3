package io.sonde.server.config.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Who probes whom in a mesh: every member probes {@code fanout} peers and is probed by about as
 * many, one member joining or leaving moves about {@code fanout} assignments, and the plan depends
 * on nothing but the mesh's name, its members and the fan-out, so every server instance computes
 * the same one.
 *
 * <p>How: {@code fanout} hash rings. On ring {@code j} a member sits at a position hashed from the
 * mesh, the member's id and {@code j}; on each ring a member probes the member that follows it
 * (the next one after that if it probes that one already from an earlier ring). Each member has
 * one predecessor on each ring, so it is probed by {@code fanout} others but for the rare
 * duplicates; a member that leaves is replaced, on each ring, by its successor for its one
 * predecessor. Choosing each member's highest-weight peers (rendezvous hashing) keeps the
 * fan-out and the churn as small but leaves the number of probers of a member to chance (a
 * binomial spread: at 1,000 members and a fan-out of 10, some members are probed by 3 and some by
 * 20; docs/performance.md has the figures).
 */
final class PeerPlan {

    /** A fan-out that makes a full mesh: every member probes every other. */
    static final int ALL = Integer.MAX_VALUE;

    /** Members a mesh may have: indices share a sort key with the ring position (20 bits). */
    static final int MAX_MEMBERS = 1 << 20;

    private final Map<String, List<String>> peers;
    private final int fanout;
    private final int minIn;
    private final int maxIn;

    private PeerPlan(Map<String, List<String>> peers, int fanout, int minIn, int maxIn) {
        this.peers = peers;
        this.fanout = fanout;
        this.minIn = minIn;
        this.maxIn = maxIn;
    }

    /**
     * @param mesh    the mesh's name: meshes over the same members get different peers
     * @param members the members' agent ids (duplicates count once)
     * @param fanout  peers each member probes, 1 or more; {@link #ALL}, or anything from the
     *                number of other members up, for a full mesh
     * @return the plan
     * @throws IllegalArgumentException for a fan-out under 1 or more than {@link #MAX_MEMBERS} members
     */
    static PeerPlan of(String mesh, Collection<String> members, int fanout) {
        if (fanout < 1) {
            throw new IllegalArgumentException("fanout: " + fanout + " is not 1 or more (or all)");
        }
        String[] ids = new TreeSet<>(members).toArray(new String[0]);
        int n = ids.length;
        if (n > MAX_MEMBERS) {
            throw new IllegalArgumentException("members: " + n + " agents, at most " + MAX_MEMBERS + " in one mesh");
        }
        int k = Math.min(fanout, Math.max(0, n - 1));
        int[][] out = new int[n][k];
        if (k == n - 1) { // a full mesh
            for (int s = 0; s < n; s++) {
                int c = 0;
                for (int d = 0; d < n; d++) {
                    if (d != s) {
                        out[s][c++] = d;
                    }
                }
            }
        } else if (k > 0) {
            long[] base = new long[n];
            for (int i = 0; i < n; i++) {
                base[i] = mix(fnv1a(mesh + '\u0000' + ids[i]));
            }
            long[] ring = new long[n];
            int[] slot = new int[n]; // a member's place on the ring in hand
            for (int j = 0; j < k; j++) {
                for (int i = 0; i < n; i++) {
                    long position = mix(base[i] + (j + 1) * 0x9E3779B97F4A7C15L);
                    ring[i] = (position >>> 21) << 20 | i; // 43 bits of position, ties broken by id order
                }
                Arrays.sort(ring);
                for (int p = 0; p < n; p++) {
                    slot[(int) (ring[p] & (MAX_MEMBERS - 1))] = p;
                }
                for (int s = 0; s < n; s++) {
                    int p = slot[s];
                    for (int step = 1; step < n; step++) { // at most n - 1 steps; k < n - 1 leaves one free
                        int d = (int) (ring[(p + step) % n] & (MAX_MEMBERS - 1));
                        if (!contains(out[s], j, d)) {
                            out[s][j] = d;
                            break;
                        }
                    }
                }
            }
        }
        int[] in = new int[n];
        Map<String, List<String>> peers = new LinkedHashMap<>();
        for (int s = 0; s < n; s++) {
            List<String> list = new ArrayList<>(k);
            for (int d : out[s]) {
                list.add(ids[d]);
                in[d]++;
            }
            peers.put(ids[s], Collections.unmodifiableList(list));
        }
        int minIn = n == 0 ? 0 : Arrays.stream(in).min().getAsInt();
        int maxIn = n == 0 ? 0 : Arrays.stream(in).max().getAsInt();
        return new PeerPlan(Collections.unmodifiableMap(peers), k, minIn, maxIn);
    }

    private static boolean contains(int[] chosen, int count, int d) {
        for (int i = 0; i < count; i++) {
            if (chosen[i] == d) {
                return true;
            }
        }
        return false;
    }

    /** FNV-1a, 64 bits, over the UTF-8 bytes: a hash that is the same on every instance and JVM. */
    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finalizer: every bit of the input moves about half the bits of the output. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** @return each member's peers, members in id order, each member's peers in ring order */
    Map<String, List<String>> peers() {
        return peers;
    }

    /** @return the peers each member probes: the fan-out asked for, or fewer where the mesh is smaller */
    int fanout() {
        return fanout;
    }

    /** @return the fewest members that probe one member */
    int minInDegree() {
        return minIn;
    }

    /** @return the most members that probe one member */
    int maxInDegree() {
        return maxIn;
    }

    /**
     * @return the assignments (member, peer) of {@code after} that {@code before} did not have,
     *         counted for the members that are in both: what changes for the members that stay
     */
    static int moved(PeerPlan before, PeerPlan after) {
        int moved = 0;
        for (Map.Entry<String, List<String>> e : after.peers.entrySet()) {
            List<String> old = before.peers.get(e.getKey());
            if (old != null) {
                for (String peer : e.getValue()) {
                    if (!old.contains(peer)) {
                        moved++;
                    }
                }
            }
        }
        return moved;
    }
}
