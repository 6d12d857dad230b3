package io.sonde.plugin.dns.testing;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A small authoritative DNS server for tests, on a loopback port, answering over UDP and TCP from
 * the records given to it. Over UDP an answer that does not fit in 512 bytes (or the client's EDNS
 * size) goes out truncated, with the TC flag, as real servers do. A name can be made to answer with
 * a given response code, and the whole server can be made silent.
 */
public final class TestDnsServer implements AutoCloseable {

    private final DatagramSocket udp;
    private final ServerSocket tcp;
    private final Map<Name, List<Record>> records = new ConcurrentHashMap<>();
    private final Map<Name, Integer> rcodes = new ConcurrentHashMap<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicInteger udpQueries = new AtomicInteger();
    private final AtomicInteger tcpQueries = new AtomicInteger();
    private volatile boolean silent;

    /** Starts a server on 127.0.0.1, the same free port for UDP and TCP. */
    public TestDnsServer() throws IOException {
        DatagramSocket u = null;
        ServerSocket t = null;
        for (int attempt = 0; t == null; attempt++) {
            u = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try {
                t = new ServerSocket();
                t.setReuseAddress(true);
                t.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), u.getLocalPort()), 16);
            } catch (IOException e) {
                u.close();
                t = null;
                if (attempt == 20) {
                    throw e;
                }
            }
        }
        udp = u;
        tcp = t;
        start("test-dns-udp", this::serveUdp);
        start("test-dns-tcp", this::serveTcp);
    }

    public int port() {
        return udp.getLocalPort();
    }

    /** Adds a record in zone-file terms, for example {@code add("www.example.test.", "A", "192.0.2.1")}. */
    public TestDnsServer add(String name, String type, String data) throws IOException {
        Name n = Name.fromString(name, Name.root);
        records.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>())
                .add(Record.fromString(n, Type.value(type), DClass.IN, 300, data, Name.root));
        return this;
    }

    /** Makes every question about {@code name} answer with {@code rcode}, for example SERVFAIL. */
    public TestDnsServer rcode(String name, int rcode) throws IOException {
        rcodes.put(Name.fromString(name, Name.root), rcode);
        return this;
    }

    /** Stops (or resumes) answering. */
    public void silent(boolean silent) {
        this.silent = silent;
    }

    public int udpQueries() {
        return udpQueries.get();
    }

    /** The address each query came from, in order, over either transport. */
    public final java.util.Queue<java.net.InetAddress> peers = new java.util.concurrent.ConcurrentLinkedQueue<>();

    public int tcpQueries() {
        return tcpQueries.get();
    }

    /** The answer to {@code query}, or {@code null} to say nothing. */
    Message answer(Message query) {
        Record question = query.getQuestion();
        Message response = new Message(query.getHeader().getID());
        response.getHeader().setFlag(Flags.QR);
        response.getHeader().setFlag(Flags.AA);
        if (query.getHeader().getFlag(Flags.RD)) {
            response.getHeader().setFlag(Flags.RD);
        }
        if (question == null) {
            response.getHeader().setRcode(Rcode.FORMERR);
            return response;
        }
        response.addRecord(question, Section.QUESTION);
        Integer forced = rcodes.get(question.getName());
        List<Record> known = records.get(question.getName());
        if (forced != null) {
            response.getHeader().setRcode(forced);
        } else if (known == null) {
            response.getHeader().setRcode(Rcode.NXDOMAIN);
        } else {
            for (Record r : known) {
                if (r.getType() == question.getType() || question.getType() == Type.ANY) {
                    response.addRecord(r, Section.ANSWER);
                }
            }
        }
        return response;
    }

    private void serveUdp() {
        byte[] buffer = new byte[65535];
        while (!udp.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                udp.receive(packet);
                udpQueries.incrementAndGet();
                peers.add(packet.getAddress());
                if (silent) {
                    continue;
                }
                Message query = new Message(java.util.Arrays.copyOf(packet.getData(), packet.getLength()));
                OPTRecord opt = query.getOPT();
                int max = opt == null ? 512 : Math.max(512, opt.getPayloadSize());
                byte[] out = answer(query).toWire(max); // sets TC and leaves records out when they do not fit
                udp.send(new DatagramPacket(out, out.length, packet.getSocketAddress()));
            } catch (SocketException closed) {
                return;
            } catch (IOException e) {
                // a malformed query: a real server drops it too
            }
        }
    }

    private void serveTcp() {
        while (!tcp.isClosed()) {
            try (Socket s = tcp.accept()) {
                s.setSoTimeout(5000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                byte[] wire = new byte[in.readUnsignedShort()];
                in.readFully(wire);
                tcpQueries.incrementAndGet();
                peers.add(s.getInetAddress());
                if (silent) {
                    continue;
                }
                byte[] out = answer(new Message(wire)).toWire();
                DataOutputStream o = new DataOutputStream(s.getOutputStream());
                o.writeShort(out.length);
                o.write(out);
                o.flush();
            } catch (SocketException closed) {
                if (tcp.isClosed()) {
                    return;
                }
            } catch (IOException e) {
                // a client that went away: next one
            }
        }
    }

    private void start(String name, Runnable loop) {
        Thread t = new Thread(loop, name);
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    @Override
    public void close() throws IOException {
        udp.close();
        tcp.close();
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
