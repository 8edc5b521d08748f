// Prints the messages of a topic/channel until Ctrl-C, discovering nsqd through nsqlookupd
// (an address of the form host:4161) or connecting to one nsqd directly (--nsqd host:4150).
//
//   nsq_client_example_consumer 127.0.0.1:4161 events printer
//   nsq_client_example_consumer --nsqd 127.0.0.1:4150 events printer
#include "nsq/consumer.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  // SIGINT/SIGTERM are blocked in every thread (the consumer's inherit the mask) and taken
  // by sigwait below, which then stops the consumer cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const bool direct = argc > 1 && std::strcmp(argv[1], "--nsqd") == 0;
  if (argc < 4 + (direct ? 1 : 0)) {
    std::fprintf(stderr, "usage: %s [--nsqd] <lookupd http | nsqd tcp> <topic> <channel>\n",
                 argv[0]);
    return 2;
  }
  const char* address = argv[1 + (direct ? 1 : 0)];
  nsq::client::Config config;
  config.max_in_flight = 10;
  nsq::client::Consumer consumer(argv[2 + (direct ? 1 : 0)], argv[3 + (direct ? 1 : 0)], config);
  consumer.SetHandler(
      [](nsq::client::Message& message) {
        std::printf("%s (attempt %d): %s\n", message.id().c_str(), message.attempts(),
                    message.body().c_str());
        std::fflush(stdout);
        return absl::OkStatus();
      },
      /*concurrency=*/2);
  absl::Status status =
      direct ? consumer.ConnectToNsqd(address) : consumer.ConnectToNsqLookupd(address);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  consumer.Stop();
  const nsq::client::ConsumerStats stats = consumer.Stats();
  std::fprintf(stderr, "received %llu, finished %llu, requeued %llu\n",
               static_cast<unsigned long long>(stats.messages_received),
               static_cast<unsigned long long>(stats.messages_finished),
               static_cast<unsigned long long>(stats.messages_requeued));
  return 0;
}
