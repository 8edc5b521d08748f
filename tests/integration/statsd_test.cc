// --statsd-address on the real nsqd: the test is the statsd daemon (a UDP socket on a free
// loopback port) and checks the packets after a known workload: names under nsqd's prefix,
// types (|g, |c) and values, counters adding up over the pushes.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/udp_receiver.h"

namespace nsq::testutil {
namespace {

// What the pushes so far add up to: the last value of each gauge, the sum of each counter.
struct StatsdState {
  std::map<std::string, int64_t> gauges;
  std::map<std::string, int64_t> counters;
  std::vector<std::string> packets;  // as received
  int pushes_with_mem = 0;           // packets that carried mem.resident_bytes
};

// Reads the packets that came in (waiting up to `wait` for the first) into `state`. Every line
// must be "<prefix><name>:<integer>|g" or "|c", every packet at most `packet_size` bytes.
void Drain(UdpReceiver& statsd, const std::string& prefix, size_t packet_size,
           std::chrono::milliseconds wait, StatsdState* state) {
  static const std::regex kLine(R"(([a-zA-Z0-9_.#-]+):(-?[0-9]+)\|(g|c))");
  for (std::optional<std::string> packet = statsd.Receive(wait); packet;
       packet = statsd.Receive(std::chrono::milliseconds(0))) {
    CHECK(packet->size() <= packet_size);
    REQUIRE_MESSAGE((!packet->empty() && packet->back() == '\n'), *packet);
    state->packets.push_back(*packet);
    for (const std::string& line :
         std::vector<std::string>(absl::StrSplit(*packet, '\n', absl::SkipEmpty()))) {
      std::smatch match;
      REQUIRE_MESSAGE(std::regex_match(line, match, kLine), line);
      const std::string full = match[1].str();
      REQUIRE_MESSAGE(full.rfind(prefix, 0) == 0, full);
      const std::string name = full.substr(prefix.size());
      const int64_t value = std::stoll(match[2].str());
      if (match[3] == "g") {
        state->gauges[name] = value;
      } else {
        state->counters[name] += value;
      }
      if (name == "mem.resident_bytes") ++state->pushes_with_mem;
    }
  }
}

TEST_CASE("statsd packets after publishing 10: 6 finished, 3 deferred by REQ, 1 timed out") {
  UdpReceiver statsd;
  auto nsqd = StartNsqd({"--statsd-address=127.0.0.1:" + std::to_string(statsd.port()),
                         "--statsd-interval=300ms", "--broadcast-address=statsd.test",
                         "--e2e-processing-latency-percentile=0.99"});
  // nsqd's default prefix "nsq.%s": the host key of <broadcast address>:<HTTP port>.
  const std::string prefix = "nsq.statsd_test_" + std::to_string(nsqd->http_port()) + ".";

  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back("message " + std::to_string(i));
  PublishMany(*nsqd, "orders", bodies);
  auto consumer = Subscribe(*nsqd, "orders", "billing", /*rdy=*/10, R"({"msg_timeout":1000})");
  for (int i = 0; i < 10; ++i) {
    const protocol::Message m = MustReadMessage(*consumer);
    if (i < 6) {
      NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));
    } else if (i < 9) {
      NSQ_REQUIRE_OK(consumer->Req(m.id.view(), 60'000));
    }  // the last one is left to time out after 1 s
  }
  // It comes back (attempt 2) once its timeout passed; this time it is finished.
  const protocol::Message again = MustReadMessage(*consumer, 5s);
  CHECK(again.attempts == 2);
  NSQ_REQUIRE_OK(consumer->Fin(again.id.view()));

  const std::string t = "topic.orders.";
  const std::string c = "topic.orders.channel.billing.";
  StatsdState state;
  // Pushes go on every 300 ms: wait until one shows the workload's end state.
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        Drain(statsd, prefix, 508, 500ms, &state);
                        return state.gauges[c + "deferred_count"] == 3 &&
                               state.gauges[c + "in_flight_count"] == 0 &&
                               state.counters[c + "timeout_count"] == 1;
                      },
                      10s),
                  state.packets.size(), " packets");
  CHECK(state.counters[t + "message_count"] == 10);
  CHECK(state.counters[t + "message_bytes"] == 90);  // "message N": 9 bytes each
  CHECK(state.gauges[t + "depth"] == 0);
  CHECK(state.gauges[t + "backend_depth"] == 0);
  CHECK(state.counters[c + "message_count"] == 10);
  CHECK(state.counters[c + "requeue_count"] == 3);
  CHECK(state.counters[c + "disconnect_requeue_count"] == 0);
  CHECK(state.counters[c + "timeout_count"] == 1);
  CHECK(state.gauges[c + "depth"] == 0);
  CHECK(state.gauges[c + "backend_depth"] == 0);
  CHECK(state.gauges[c + "clients"] == 1);
  // Seven FINs, each within a second or so of its publish.
  const int64_t p99 = state.gauges[c + "e2e_processing_latency_99"];
  CHECK(p99 > 0);
  CHECK(p99 < 10'000'000'000);
  CHECK(state.gauges.count(t + "e2e_processing_latency_99") == 1);
  // --statsd-mem-stats is on by default: the process's heap and RSS.
  CHECK(state.pushes_with_mem >= 1);
  CHECK(state.gauges["mem.resident_bytes"] > 1'000'000);
  // glibc's heap figures (a sanitizer's allocator replaces glibc's and they read 0).
  if (!TestNsqd::Sanitized()) CHECK(state.gauges["mem.heap_in_use_bytes"] > 0);
  CHECK(state.gauges.count("mem.heap_idle_bytes") == 1);

  // The consumer goes away with nothing in flight; nothing more is counted after that.
  consumer.reset();
  StatsdState after;
  REQUIRE(WaitFor(
      [&] {
        Drain(statsd, prefix, 508, 500ms, &after);
        const auto clients = after.gauges.find(c + "clients");
        return clients != after.gauges.end() && clients->second == 0;
      },
      10s));
  CHECK(after.counters[c + "message_count"] == 0);
  CHECK(after.counters[c + "requeue_count"] == 0);

  // The pusher's own counters are in /metrics.
  const absl::StatusOr<HttpResponse> metrics = HttpGet(nsqd->http_port(), "/metrics");
  NSQ_REQUIRE_OK(metrics);
  CHECK(metrics->body.find("\nnsq_statsd_packets_dropped_total 0\n") != std::string::npos);
  CHECK(metrics->body.find("\nnsq_statsd_send_errors_total 0\n") != std::string::npos);

  if (std::getenv("NSQ_TEST_PRINT_STATSD") != nullptr) {
    for (const std::string& packet : state.packets) std::fprintf(stderr, "---\n%s", packet.c_str());
  }
}

TEST_CASE("with an interval over 1 s a push is spread over the interval minus 1 s, as nsqd") {
  UdpReceiver statsd;
  // A push of a topic and a channel is ~20 lines: ~20 packets of at most 64 bytes, spread over
  // 1 s (interval 2 s); packets of one push come ~50 ms apart, pushes 2 s apart.
  auto nsqd = StartNsqd({"--statsd-address=127.0.0.1:" + std::to_string(statsd.port()),
                         "--statsd-interval=2s", "--statsd-udp-packet-size=64",
                         "--statsd-prefix=s"});
  Publish(*nsqd, "spread", "x");
  auto consumer = Subscribe(*nsqd, "spread", "c", /*rdy=*/0);
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::optional<std::string> first = statsd.Receive(5s);
  REQUIRE(first.has_value());
  arrivals.push_back(std::chrono::steady_clock::now());
  // The rest of this push: it ends with the mem. gauges.
  std::string last = *first;
  while (last.find("s.mem.resident_bytes:") == std::string::npos) {
    std::optional<std::string> packet = statsd.Receive(2s);
    REQUIRE(packet.has_value());
    CHECK(packet->size() <= 64);
    arrivals.push_back(std::chrono::steady_clock::now());
    last = *packet;
  }
  REQUIRE(arrivals.size() >= 10);
  const auto spread = arrivals.back() - arrivals.front();
  CHECK(spread >= 600ms);  // ideally 1 s * (n-1)/n
  CHECK(spread < 1900ms);  // and over before the next push
}

}  // namespace
}  // namespace nsq::testutil
