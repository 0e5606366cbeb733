package org.anetd.agent.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code anetd status}: the running agent's summary, like {@code cilium status}. */
@Command(name = "status", description = "Show the health, config, maps and last reconcile of the agent on this node.")
final class StatusCommand implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--address", description = "The agent's health address (default: ${DEFAULT-VALUE}).")
  String address = "127.0.0.1:9879";

  @Override
  public Integer call() {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpResponse<String> status = http.send(HttpRequest.newBuilder(
          URI.create("http://" + address + "/statusz")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      spec.commandLine().getOut().print(status.body());
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
          URI.create("http://" + address + "/readyz")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return ready.statusCode() == 200 ? 0 : 1;
    } catch (IOException e) {
      spec.commandLine().getErr().println("anetd status: no agent answers on " + address + " ("
          + e.getClass().getSimpleName() + "): is `anetd agent` running on this node?");
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 2;
    }
  }
}
