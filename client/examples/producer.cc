// Publishes lines read from stdin (or N generated messages) to a topic.
//
//   nsq_client_example_producer 127.0.0.1:4150 events            < lines.txt
//   nsq_client_example_producer 127.0.0.1:4150 events 1000
#include "nsq/producer.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <nsqd tcp address> <topic> [count]\n", argv[0]);
    return 2;
  }
  nsq::client::Producer producer(argv[1], nsq::client::Config());
  if (!producer.status().ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 2;
  }
  int published = 0;
  auto publish = [&](const std::string& body) {
    absl::Status status = producer.Publish(argv[2], body);
    if (!status.ok()) {
      std::fprintf(stderr, "publish failed: %s\n", status.ToString().c_str());
      return false;
    }
    ++published;
    return true;
  };
  if (argc > 3) {
    const int count = std::atoi(argv[3]);
    for (int i = 0; i < count; ++i) {
      if (!publish("message " + std::to_string(i))) return 1;
    }
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && !publish(line)) return 1;
    }
  }
  producer.Stop();
  std::printf("published %d messages\n", published);
  return 0;
}
