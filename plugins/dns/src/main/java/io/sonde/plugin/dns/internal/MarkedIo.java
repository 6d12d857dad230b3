package io.sonde.plugin.dns.internal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

import org.xbill.DNS.Message;
import org.xbill.DNS.io.IoClientFactory;
import org.xbill.DNS.io.TcpIoClient;
import org.xbill.DNS.io.UdpIoClient;

/**
 * dnsjava's UDP and TCP exchanges on sockets that carry a DSCP mark: dnsjava's own clients set no
 * traffic class, so a target with {@code dscp} sends its query here instead. Each socket is of the
 * server's family (the JDK's dual-stack sockets mark IPv6 packets only) and bound where dnsjava says
 * ({@code source_address}); the exchange blocks a thread of {@code executor} for at most the timeout.
 * dnsjava still builds the query and reads the answer.
 */
final class MarkedIo implements IoClientFactory {

    /** Datagrams that do not answer the query (another ID) passed over before giving up. */
    private static final int STRAY_DATAGRAMS = 100;

    private final int trafficClass;
    private final Executor executor;

    /** @param trafficClass the IP TOS byte (DSCP shifted left by 2) */
    MarkedIo(int trafficClass, Executor executor) {
        this.trafficClass = trafficClass;
        this.executor = executor;
    }

    @Override
    public UdpIoClient createOrGetUdpClient() {
        return (local, remote, query, data, max, timeout) -> run(() -> udp(local, remote, query, data, max, timeout));
    }

    @Override
    public TcpIoClient createOrGetTcpClient() {
        return (local, remote, query, data, timeout) -> run(() -> tcp(local, remote, data, timeout));
    }

    private interface Exchange {
        byte[] run() throws IOException;
    }

    private CompletableFuture<byte[]> run(Exchange exchange) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return exchange.run();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    private byte[] udp(InetSocketAddress local, InetSocketAddress remote, Message query, byte[] data, int max, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (DatagramChannel channel = DatagramChannel.open(remote.getAddress() instanceof Inet4Address ? StandardProtocolFamily.INET
                : StandardProtocolFamily.INET6)) {
            channel.setOption(StandardSocketOptions.IP_TOS, trafficClass);
            channel.bind(local);
            channel.connect(remote);
            channel.write(ByteBuffer.wrap(data));
            DatagramSocket socket = channel.socket();
            byte[] buffer = new byte[max];
            int id = query.getHeader().getID();
            for (int i = 0; i < STRAY_DATAGRAMS; i++) {
                socket.setSoTimeout(millisLeft(deadline));
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                socket.receive(packet);
                if (packet.getLength() >= 12 && ((buffer[0] & 0xff) << 8 | (buffer[1] & 0xff)) == id) {
                    return Arrays.copyOf(buffer, packet.getLength());
                }
            }
            throw new IOException(STRAY_DATAGRAMS + " datagrams from " + remote + " and none answered the query");
        }
    }

    private byte[] tcp(InetSocketAddress local, InetSocketAddress remote, byte[] data, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Socket socket = io.sonde.sockets.Marking.socket(remote.getAddress())) {
            socket.setTrafficClass(trafficClass);
            if (local != null) {
                socket.bind(local);
            }
            socket.connect(remote, millisLeft(deadline));
            socket.setSoTimeout(millisLeft(deadline));
            OutputStream out = socket.getOutputStream();
            byte[] framed = new byte[data.length + 2];
            framed[0] = (byte) (data.length >>> 8);
            framed[1] = (byte) data.length;
            System.arraycopy(data, 0, framed, 2, data.length);
            out.write(framed);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] answer = new byte[in.readUnsignedShort()];
            in.readFully(answer);
            return answer;
        }
    }

    private static int millisLeft(long deadline) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("Query timed out");
        }
        return (int) left;
    }
}
