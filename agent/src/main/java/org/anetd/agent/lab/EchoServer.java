package org.anetd.agent.lab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What every lab pod runs (like agnhost netexec), started inside the pod's network namespace with
 * {@code ip netns exec}: TCP and UDP on each given port. A request line {@code hostname} is
 * answered with the pod's name, {@code clientip} with the client's address as the pod sees it;
 * anything else is echoed. TCP serves line by line until the client closes; UDP answers each
 * datagram. Prints {@code ready} once every socket is bound. Only the JDK: it starts fast.
 *
 * <p>Usage: {@code EchoServer POD_NAME PORT[/tcp|/udp]...} (a bare port serves both).
 */
public final class EchoServer {
  private EchoServer() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: EchoServer POD_NAME PORT[/tcp|/udp]...");
      System.exit(2);
    }
    String name = args[0];
    List<Thread> threads = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String[] spec = args[i].split("/");
      int port = Integer.parseInt(spec[0]);
      String proto = spec.length > 1 ? spec[1] : "both";
      if (!proto.equals("udp")) {
        ServerSocket tcp = new ServerSocket();
        tcp.setReuseAddress(true);
        tcp.bind(new InetSocketAddress(port), 128);
        threads.add(new Thread(() -> acceptLoop(tcp, name), "tcp-" + port));
      }
      if (!proto.equals("tcp")) {
        DatagramSocket udp = new DatagramSocket(new InetSocketAddress(port));
        threads.add(new Thread(() -> udpLoop(udp, name), "udp-" + port));
      }
    }
    threads.forEach(Thread::start);
    System.out.println("ready");
    System.out.flush();
  }

  /** The answer to one request line. */
  static String answer(String request, String name, String clientIp) {
    return switch (request.strip()) {
      case "hostname" -> name;
      case "clientip" -> clientIp;
      default -> request.strip();
    };
  }

  private static void acceptLoop(ServerSocket server, String name) {
    while (true) {
      try {
        Socket s = server.accept();
        Thread t = new Thread(() -> serve(s, name), "conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void serve(Socket s, String name) {
    try (s) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
          StandardCharsets.UTF_8));
      OutputStream out = s.getOutputStream();
      String client = s.getInetAddress().getHostAddress();
      String line;
      while ((line = in.readLine()) != null) {
        out.write((answer(line, name, client) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private static void udpLoop(DatagramSocket socket, String name) {
    byte[] buf = new byte[65535];
    while (true) {
      try {
        DatagramPacket in = new DatagramPacket(buf, buf.length);
        socket.receive(in);
        String request = new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8);
        byte[] reply = (answer(request, name, in.getAddress().getHostAddress()) + "\n")
            .getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(reply, reply.length, in.getSocketAddress()));
      } catch (IOException e) {
        if (socket.isClosed()) {
          return;
        }
      }
    }
  }
}
