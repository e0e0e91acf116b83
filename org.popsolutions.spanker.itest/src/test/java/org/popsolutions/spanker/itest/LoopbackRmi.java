package org.popsolutions.spanker.itest;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.rmi.server.RMISocketFactory;

/**
 * Makes RMI servers of this JVM listen on the loopback interface only. Pax Exam creates an RMI registry in
 * the test JVM for talking to the container, with the JVM's default socket factory, which would otherwise
 * accept connections on every interface.
 */
final class LoopbackRmi extends RMISocketFactory {
    private static boolean installed;

    private LoopbackRmi() {
    }

    static synchronized void install() throws IOException {
        if (!installed) {
            RMISocketFactory.setSocketFactory(new LoopbackRmi());
            installed = true;
        }
    }

    @Override
    public ServerSocket createServerSocket(int port) throws IOException {
        return new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return new Socket(host, port);
    }
}
