package org.anetd.agent.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads the text pages the node's agent serves on its health address (:9879). */
final class AgentPages {
  static final String DEFAULT_ADDRESS = "127.0.0.1:9879";

  private AgentPages() {}

  /** GETs {@code path}; returns the HTTP status, or -1 after printing why no agent answered. */
  static int print(String address, String path, PrintWriter out, PrintWriter err) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpResponse<String> page = http.send(HttpRequest.newBuilder(
          URI.create("http://" + address + path)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      out.print(page.body());
      out.flush();
      return page.statusCode();
    } catch (IOException e) {
      err.println("no agent answers on " + address + " (" + e.getClass().getSimpleName()
          + "): is `anetd agent` running on this node?");
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
