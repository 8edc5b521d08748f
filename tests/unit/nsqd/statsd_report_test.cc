// statsd_report: nsqd's statsd names, types and values; counters as deltas between pushes;
// the prefix's host key; --statsd-exclude-ephemeral; packing lines into packets.
#include "nsqd/statsd/statsd_report.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace nsq::nsqd {
namespace {

ChannelStats Channel(std::string name, uint64_t messages, uint64_t requeues, uint64_t timeouts) {
  ChannelStats c;
  c.channel_name = std::move(name);
  c.message_count = messages;
  c.requeue_count = requeues;
  c.timeout_count = timeouts;
  return c;
}

BrokerStats OneTopic(uint64_t messages, ChannelStats channel) {
  TopicStats topic;
  topic.topic_name = "orders";
  topic.message_count = messages;
  topic.message_bytes = messages * 10;
  topic.depth = 3;
  topic.backend_depth = 1;
  topic.channels.push_back(std::move(channel));
  BrokerStats stats;
  stats.topics.push_back(std::move(topic));
  return stats;
}

TEST_CASE("statsd lines carry nsqd's names and types, counters as deltas since the last push") {
  StatsdReport report({.prefix = "nsq.host_4151."});
  ChannelStats billing = Channel("billing", 10, 4, 1);
  billing.disconnect_requeue_count = 2;
  billing.depth = 5;
  billing.backend_depth = 2;
  billing.in_flight_count = 3;
  billing.deferred_count = 4;
  billing.client_count = 2;
  const std::vector<std::string> first = report.Lines(OneTopic(10, billing), nullptr);
  CHECK(first == std::vector<std::string>{
                     "nsq.host_4151.topic.orders.message_count:10|c\n",
                     "nsq.host_4151.topic.orders.message_bytes:100|c\n",
                     "nsq.host_4151.topic.orders.depth:3|g\n",
                     "nsq.host_4151.topic.orders.backend_depth:1|g\n",
                     "nsq.host_4151.topic.orders.channel.billing.message_count:10|c\n",
                     "nsq.host_4151.topic.orders.channel.billing.depth:5|g\n",
                     "nsq.host_4151.topic.orders.channel.billing.backend_depth:2|g\n",
                     "nsq.host_4151.topic.orders.channel.billing.in_flight_count:3|g\n",
                     "nsq.host_4151.topic.orders.channel.billing.deferred_count:4|g\n",
                     "nsq.host_4151.topic.orders.channel.billing.requeue_count:4|c\n",
                     "nsq.host_4151.topic.orders.channel.billing.disconnect_requeue_count:2|c\n",
                     "nsq.host_4151.topic.orders.channel.billing.timeout_count:1|c\n",
                     "nsq.host_4151.topic.orders.channel.billing.clients:2|g\n",
                 });

  // Next push: counters send what was added since; gauges their value.
  ChannelStats later = Channel("billing", 15, 4, 3);
  later.disconnect_requeue_count = 2;
  const std::vector<std::string> second = report.Lines(OneTopic(15, later), nullptr);
  CHECK(second[0] == "nsq.host_4151.topic.orders.message_count:5|c\n");
  CHECK(second[1] == "nsq.host_4151.topic.orders.message_bytes:50|c\n");
  CHECK(second[4] == "nsq.host_4151.topic.orders.channel.billing.message_count:5|c\n");
  CHECK(second[5] == "nsq.host_4151.topic.orders.channel.billing.depth:0|g\n");
  CHECK(second[9] == "nsq.host_4151.topic.orders.channel.billing.requeue_count:0|c\n");
  CHECK(second[10] == "nsq.host_4151.topic.orders.channel.billing.disconnect_requeue_count:0|c\n");
  CHECK(second[11] == "nsq.host_4151.topic.orders.channel.billing.timeout_count:2|c\n");
}

TEST_CASE("a topic deleted and created again counts from zero; a lower counter sends a negative") {
  StatsdReport report({.prefix = ""});
  (void)report.Lines(OneTopic(10, Channel("c", 10, 0, 0)), nullptr);
  (void)report.Lines(BrokerStats{}, nullptr);  // gone: forgotten
  CHECK(report.Lines(OneTopic(2, Channel("c", 2, 0, 0)), nullptr)[0] ==
        "topic.orders.message_count:2|c\n");
  // nsqd subtracts the unsigned counters and sends the difference as signed.
  CHECK(report.Lines(OneTopic(1, Channel("c", 1, 0, 0)), nullptr)[0] ==
        "topic.orders.message_count:-1|c\n");
}

TEST_CASE("e2e percentiles go out as gauges in nanoseconds named by the percent") {
  StatsdReport report({.prefix = "p."});
  BrokerStats stats = OneTopic(1, Channel("c", 1, 0, 0));
  stats.topics[0].e2e.percentiles = {{0.99, 250e6}, {0.5, 1000.4}};
  stats.topics[0].channels[0].e2e.percentiles = {{0.999, 3e6}};
  const std::vector<std::string> lines = report.Lines(stats, nullptr);
  CHECK(lines[4] == "p.topic.orders.e2e_processing_latency_99:250000000|g\n");
  CHECK(lines[5] == "p.topic.orders.e2e_processing_latency_50:1000|g\n");
  CHECK(lines.back() == "p.topic.orders.channel.c.e2e_processing_latency_100:3000000|g\n");
}

TEST_CASE("--statsd-mem-stats adds the heap and RSS gauges") {
  StatsdReport report({.prefix = "p."});
  const StatsdMemStats mem{.heap_in_use_bytes = 100, .heap_idle_bytes = 20, .resident_bytes = 4096};
  const std::vector<std::string> lines = report.Lines(BrokerStats{}, &mem);
  CHECK(lines == std::vector<std::string>{"p.mem.heap_in_use_bytes:100|g\n",
                                          "p.mem.heap_idle_bytes:20|g\n",
                                          "p.mem.resident_bytes:4096|g\n"});
}

TEST_CASE("--statsd-exclude-ephemeral leaves #ephemeral topics and channels out") {
  BrokerStats stats = OneTopic(1, Channel("tail#ephemeral", 1, 0, 0));
  TopicStats ephemeral;
  ephemeral.topic_name = "scratch#ephemeral";
  stats.topics.push_back(ephemeral);
  StatsdReport excluding({.prefix = "", .exclude_ephemeral = true});
  const std::vector<std::string> lines = excluding.Lines(stats, nullptr);
  CHECK(lines.size() == 4);  // the durable topic's own four lines
  for (const std::string& line : lines) CHECK(line.find("ephemeral") == std::string::npos);
  StatsdReport including({.prefix = ""});
  CHECK(including.Lines(stats, nullptr).size() == 4 + 9 + 4);
}

TEST_CASE("the prefix: %s is nsqd's host key of broadcast address and HTTP port, '.' appended") {
  CHECK(StatsdHostKey("host.example.com:4151") == "host_example_com_4151");
  CHECK(StatsdPrefix("nsq.%s", "host.example.com", 4151) == "nsq.host_example_com_4151.");
  CHECK(StatsdPrefix("nsq.%s.", "10.0.0.1", 80) == "nsq.10_0_0_1_80.");
  CHECK(StatsdPrefix("%s.%s", "h", 1) == "h_1.h_1.");
  CHECK(StatsdPrefix("fixed", "h", 1) == "fixed.");
  CHECK(StatsdPrefix("nsq.%s", "::1", 4151) == "nsq.[__1]_4151.");  // Go's JoinHostPort
  CHECK(StatsdPrefix("", "h", 1) == "");
}

TEST_CASE("lines are packed whole into packets of at most the packet size, in order") {
  const std::vector<std::string> lines = {"aaaa\n", "bbbb\n", "cccc\n", std::string(12, 'x'),
                                          "dd\n"};
  const std::vector<std::string> packets = PackStatsdPackets(lines, 10);
  CHECK(packets == std::vector<std::string>{"aaaa\nbbbb\n", "cccc\n", std::string(12, 'x'),
                                            "dd\n"});
  CHECK(PackStatsdPackets({}, 508).empty());
  CHECK(PackStatsdPackets(lines, 508).size() == 1);
}

}  // namespace
}  // namespace nsq::nsqd
