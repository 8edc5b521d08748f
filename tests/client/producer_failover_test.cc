// Producer failover across several nsqd: publishes move to the next nsqd when the one in use is
// killed, nothing is reported published without nsqd's OK, and a dead nsqd is retried with
// jittered exponential backoff and logged once per state change, not once per publish.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::StartNsqd;
using testutil::WaitFor;

int CountLines(const testing::LogRecorder& log, const std::string& needle) {
  int count = 0;
  for (const std::string& line : log.Lines()) count += absl::StrContains(line, needle);
  return count;
}

// Publishes "p-0", "p-1", ... one confirmed PUB at a time on its own thread, retrying a body
// until nsqd acknowledges it (an application's loop); remembers what was acknowledged.
class Publisher {
 public:
  explicit Publisher(Producer& producer) : producer_(producer), thread_([this] { Run(); }) {}
  ~Publisher() { Finish(); }
  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int acknowledged_count() const { return acknowledged_count_; }
  int failures() const { return failures_; }
  std::vector<std::string> acknowledged() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  std::map<std::string, int> by_nsqd() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_nsqd_;
  }

 private:
  void Run() {
    for (int i = 0; !stop_;) {
      const std::string body = absl::StrCat("p-", i);
      const absl::Status status = producer_.Publish("ha", body);
      if (!status.ok()) {
        CHECK_MESSAGE(absl::IsUnavailable(status), status.ToString());
        ++failures_;
        continue;
      }
      const std::string nsqd = producer_.Stats().connected_to;
      std::lock_guard<std::mutex> lock(mu_);
      acknowledged_.push_back(body);
      ++by_nsqd_[nsqd];
      ++acknowledged_count_;
      ++i;
    }
  }

  Producer& producer_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acknowledged_count_{0};
  std::atomic<int> failures_{0};
  mutable std::mutex mu_;
  std::vector<std::string> acknowledged_;
  std::map<std::string, int> by_nsqd_;
  std::thread thread_;  // last: starts once the members it uses exist
};

TEST_CASE("A producer given 3 nsqd fails over when one is killed; every acknowledged message "
          "arrives") {
  // Durable nsqd (an OK means on disk), each on a port that survives its restart.
  std::vector<std::unique_ptr<testutil::TestNsqd>> nodes;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    addresses.push_back(absl::StrCat("127.0.0.1:", testing::FreePort()));
    nodes.push_back(StartNsqd({absl::StrCat("--tcp-address=", addresses.back()),
                               "--mem-queue-size=0", "--sync-every=1"}));
    REQUIRE(NsqdAddress(*nodes.back()) == addresses.back());
    for (const std::string& target : {std::string("/topic/create?topic=ha"),
                                      std::string("/channel/create?topic=ha&channel=c")}) {
      auto created = testutil::HttpPost(nodes.back()->http_port(), target);
      REQUIRE(created.ok());
      REQUIRE(created->status == 200);
    }
  }
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.reconnect_min_backoff = 50ms;
  config.reconnect_max_backoff = 400ms;
  Producer producer(addresses, config);

  std::mutex mu;
  std::set<std::string> received;
  Consumer consumer("ha", "c", log.MakeConfig());
  consumer.SetHandler([&](Message& m) {
    std::lock_guard<std::mutex> lock(mu);
    received.insert(m.body());
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqds(addresses));

  Publisher publisher(producer);
  REQUIRE(WaitFor([&] { return publisher.acknowledged_count() >= 300; }, 20s));
  const std::string first = producer.Stats().connected_to;
  REQUIRE(first == addresses[0]);  // the first address is used while it is up
  nodes[0]->Kill9();
  int at_kill = publisher.acknowledged_count();
  REQUIRE(WaitFor([&] { return publisher.acknowledged_count() >= at_kill + 300; }, 20s));
  const std::string second = producer.Stats().connected_to;
  CHECK(second == addresses[1]);
  CLIENT_REQUIRE_OK(nodes[0]->Restart());
  // Kill the one in use too: the publishes go on to the third (or the restarted first).
  nodes[1]->Kill9();
  at_kill = publisher.acknowledged_count();
  REQUIRE(WaitFor([&] { return publisher.acknowledged_count() >= at_kill + 300; }, 20s));
  CHECK(producer.Stats().connected_to != addresses[1]);
  publisher.Finish();
  CLIENT_REQUIRE_OK(nodes[1]->Restart());

  // Everything nsqd acknowledged reaches the consumer (which reconnects to the restarted ones).
  const std::vector<std::string> acknowledged = publisher.acknowledged();
  auto missing = [&] {
    std::lock_guard<std::mutex> lock(mu);
    int count = 0;
    for (const std::string& body : acknowledged) count += received.count(body) == 0;
    return count;
  };
  CHECK(WaitFor([&] { return missing() == 0; }, 30s));
  CHECK_MESSAGE(missing() == 0, missing(), " of ", acknowledged.size(), " acknowledged missing");
  const ProducerStats stats = producer.Stats();
  CHECK(stats.published == acknowledged.size());
  CHECK(stats.failed == static_cast<uint64_t>(publisher.failures()));
  for (const auto& [nsqd, count] : publisher.by_nsqd()) MESSAGE(nsqd, ": ", count, " acknowledged");
  MESSAGE(publisher.failures(), " publishes failed across the two kills (retried)");
  // One line per change of state for each killed nsqd, not one per attempt.
  CHECK(CountLines(log, absl::StrCat("(", addresses[0], ") producer connection lost")) == 1);
  CHECK(CountLines(log, absl::StrCat("(", addresses[0], ") nsqd unreachable")) <= 1);
  consumer.Stop();
}

TEST_CASE("With its nsqd down, publishes fail fast under backoff instead of dialling each time") {
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.reconnect_min_backoff = 50ms;
  config.reconnect_max_backoff = 200ms;
  Producer producer(address, config);
  int publishes = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 1s) {
    const absl::Status status = producer.Publish("t", "x");
    ++publishes;
    REQUIRE_MESSAGE(absl::IsUnavailable(status), status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), "next attempt in"), status.ToString());
  }
  const int dials = CountLines(log, absl::StrCat("(", address, ") producer connecting"));
  MESSAGE(publishes, " publishes in 1 s, ", dials, " dials");
  // 50, 100, 200, 200 ... ms apart (times 0.5-1 jitter): at most ~1 s / 25 ms, far below one
  // dial per publish.
  CHECK(publishes > 10 * dials);
  CHECK(dials <= 40);
  CHECK(dials >= 3);
  CHECK(CountLines(log, "nsqd unreachable") == 1);  // the change of state, once

  // It comes up: the next attempt after the backoff connects, and that is logged once.
  auto nsqd = StartNsqd({absl::StrCat("--tcp-address=", address)});
  CHECK(WaitFor([&] { return producer.Publish("t", "x").ok(); }, 5s));
  CHECK(CountLines(log, "nsqd is reachable again") == 1);
  CHECK(producer.Stats().connected_to == address);
  CLIENT_CHECK_OK(producer.Ping());
}

}  // namespace
}  // namespace nsq::client
