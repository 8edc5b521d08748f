// Producer and Consumer when nsqd nodes come and go: a clean nsqd restart in the middle of
// publishing and consuming loses nothing nsqd acknowledged; a consumer that discovers through
// lookupd drops the nsqd lookupd stops listing while it keeps consuming from the rest, and does
// not hammer a listed nsqd that refuses connections.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/protocol/lookup_v1.h"
#include "nsq/consumer.h"
#include "nsq/producer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/raw_conn.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::PublishAll;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;

// Every delivery a handler saw: how often each body came, from which nsqd, with what attempts.
class Deliveries {
 public:
  void Add(const Message& m) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[m.body()];
    ++by_nsqd_[m.nsqd_address()];
    ++total_;
    max_attempts_ = std::max<int>(max_attempts_, m.attempts());
  }
  uint64_t total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
  }
  size_t distinct() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_.size();
  }
  int max_attempts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return max_attempts_;
  }
  uint64_t FromNsqd(const std::string& address) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_nsqd_.find(address);
    return it == by_nsqd_.end() ? 0 : it->second;
  }
  // The bodies of `expected` never delivered.
  std::vector<std::string> Missing(const std::vector<std::string>& expected) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> missing;
    for (const std::string& body : expected) {
      if (counts_.count(body) == 0) missing.push_back(body);
    }
    return missing;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> counts_;
  std::map<std::string, uint64_t> by_nsqd_;
  uint64_t total_ = 0;
  int max_attempts_ = 0;
};

// Publishes "<tag>-0", "<tag>-1", ... on its own thread, one confirmed PUB at a time. A publish
// that fails as Unavailable (nsqd going down, or not up yet) is retried, as an application
// would; only what nsqd acknowledged counts. Any other error ends the thread.
class SteadyPublisher {
 public:
  SteadyPublisher(const std::string& address, std::string topic, std::string tag, Config config)
      : producer_(address, std::move(config)),
        topic_(std::move(topic)),
        tag_(std::move(tag)),
        thread_([this] { Run(); }) {}
  ~SteadyPublisher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Ends after `more` further acknowledged messages.
  void FinishAfter(int more) { target_ = acknowledged_count_ + more; }
  // Waits for the thread to end (FinishAfter, or an error).
  void Join() { thread_.join(); }

  int acknowledged_count() const { return acknowledged_count_; }
  int unavailable() const { return unavailable_; }
  std::vector<std::string> acknowledged() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  // OK, or the error that ended publishing.
  absl::Status error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Run() {
    for (int i = 0; !stop_ && (target_ < 0 || acknowledged_count_ < target_); ++i) {
      const std::string body = absl::StrCat(tag_, "-", i);
      absl::Status status;
      const bool answered = WaitFor(
          [&] {
            status = producer_.Publish(topic_, body);
            if (!absl::IsUnavailable(status)) return true;
            ++unavailable_;
            return stop_.load();
          },
          20s);
      std::lock_guard<std::mutex> lock(mu_);
      if (!answered || !status.ok()) {
        error_ = answered ? status : absl::DeadlineExceededError(status.ToString());
        break;
      }
      acknowledged_.push_back(body);
      ++acknowledged_count_;
    }
  }

  Producer producer_;
  const std::string topic_;
  const std::string tag_;
  std::atomic<bool> stop_{false};
  std::atomic<int> target_{-1};
  std::atomic<int> acknowledged_count_{0};
  std::atomic<int> unavailable_{0};
  mutable std::mutex mu_;
  std::vector<std::string> acknowledged_;
  absl::Status error_;
  std::thread thread_;  // last: starts once the members it uses exist
};

void CreateChannel(const testutil::TestNsqd& nsqd, const std::string& topic,
                   const std::string& channel) {
  for (const std::string& target : {absl::StrCat("/topic/create?topic=", topic),
                                    absl::StrCat("/channel/create?topic=", topic,
                                                 "&channel=", channel)}) {
    auto response = testutil::HttpPost(nsqd.http_port(), target);
    REQUIRE_MESSAGE(response.ok(), response.status().ToString());
    REQUIRE_MESSAGE(response->status == 200, target, " → ", response->body);
  }
}

// The TCP ports lookupd's /lookup lists for the topic (empty when it does not know the topic).
std::set<int64_t> ListedTcpPorts(const testutil::TestLookupd& lookupd, const std::string& topic) {
  std::set<int64_t> ports;
  auto response = testutil::HttpGet(lookupd.http_port(), absl::StrCat("/lookup?topic=", topic));
  if (!response.ok() || response->status != 200) return ports;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(response->body, ec);
  if (ec || !json.is_object()) return ports;
  const boost::json::value* producers = json.as_object().if_contains("producers");
  if (producers == nullptr || !producers->is_array()) return ports;
  for (const boost::json::value& producer : producers->as_array()) {
    const boost::json::value* port = producer.as_object().if_contains("tcp_port");
    if (port != nullptr && port->is_int64()) ports.insert(port->as_int64());
  }
  return ports;
}

// Log lines of the consumer that start a connection to `address`.
int ConnectAttempts(const testing::LogRecorder& log, const std::string& address) {
  const std::string needle = absl::StrCat("(", address, ") connecting to nsqd");
  int count = 0;
  for (const std::string& line : log.Lines()) count += line.find(needle) != std::string::npos;
  return count;
}

TEST_CASE("nsqd restarts under a producer and a slow consumer: nothing acknowledged is lost") {
  bool via_lookupd = false;
  SUBCASE("consumer connected directly") {}
  SUBCASE("consumer discovering through lookupd") { via_lookupd = true; }
  constexpr int kBeforeRestart = 600;
  constexpr int kAfterRestart = 600;
  const std::string topic = "durable";
  const std::string channel = "slow";

  std::unique_ptr<testutil::TestLookupd> lookupd;
  // The clients know nsqd by address, so it must come back on the same port.
  const std::string address = absl::StrCat("127.0.0.1:", testing::FreePort());
  std::vector<std::string> flags = {absl::StrCat("--tcp-address=", address)};
  if (via_lookupd) {
    lookupd = testing::StartLookupd();
    flags.push_back(absl::StrCat("--lookupd-tcp-address=", lookupd->tcp_address()));
    flags.push_back("--broadcast-address=127.0.0.1");
  }
  auto nsqd = StartNsqd(flags);
  REQUIRE(NsqdAddress(*nsqd) == address);
  CreateChannel(*nsqd, topic, channel);

  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 4;
  Consumer consumer(topic, channel, config);
  Deliveries deliveries;
  consumer.SetHandler([&](Message& m) {
    deliveries.Add(m);
    std::this_thread::sleep_for(2ms);  // simulated work: the backlog grows while publishing
    return absl::OkStatus();
  });
  if (via_lookupd) {
    CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*lookupd)));
  } else {
    CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(address));
  }
  REQUIRE(WaitFor([&] { return consumer.Stats().connections == 1; }, 10s));

  SteadyPublisher publisher(address, topic, "m", log.MakeConfig());
  REQUIRE(WaitFor(
      [&] {
        return publisher.acknowledged_count() >= kBeforeRestart && deliveries.total() >= 20;
      },
      20s));
  // The restart must catch the consumer behind, with messages queued and in flight.
  const int64_t backlog_at_restart = Stat(*nsqd, topic, channel, "depth");
  CHECK_MESSAGE(backlog_at_restart > 0, "the consumer caught up before the restart");
  const uint64_t received_before_restart = deliveries.total();

  // The publisher keeps going through the restart and until kAfterRestart more are confirmed.
  const absl::Status restart = nsqd->Restart();
  publisher.FinishAfter(kAfterRestart);
  publisher.Join();
  CLIENT_REQUIRE_OK(restart);
  REQUIRE(NsqdAddress(*nsqd) == address);
  CLIENT_REQUIRE_OK(publisher.error());
  // A publish met the restart (so the retry path ran) and publishing went on afterwards.
  CHECK(publisher.unavailable() >= 1);
  CHECK(publisher.acknowledged_count() >= kBeforeRestart + kAfterRestart);

  const std::vector<std::string> acknowledged = publisher.acknowledged();
  WaitFor([&] { return deliveries.Missing(acknowledged).empty(); }, 30s);
  const std::vector<std::string> missing = deliveries.Missing(acknowledged);
  CHECK_MESSAGE(missing.empty(), missing.size(), " of ", acknowledged.size(),
                " acknowledged messages never delivered, e.g. ",
                absl::StrJoin(missing.begin(),
                              missing.begin() + std::min<size_t>(missing.size(), 10), ", "));
  // The consumer reconnected and drained the restored backlog.
  CHECK(deliveries.total() > received_before_restart);
  CHECK(consumer.Stats().connections == 1);
  CHECK(WaitFor(
      [&] {
        return Stat(*nsqd, topic, channel, "depth") == 0 &&
               Stat(*nsqd, topic, channel, "in_flight_count") == 0;
      },
      10s));
  // Messages in flight at the restart came back with their attempts counted.
  CHECK(deliveries.max_attempts() >= 2);
  MESSAGE("acknowledged ", acknowledged.size(), ", deliveries ", deliveries.total(),
          ", duplicates ", deliveries.total() - deliveries.distinct(), ", backlog at restart ",
          backlog_at_restart, ", publishes retried ", publisher.unavailable());
}

// Two nsqd registered with one lookupd, both with messages for the consumer.
struct TwoNodes {
  std::unique_ptr<testutil::TestLookupd> lookupd = testing::StartLookupd();
  std::unique_ptr<testutil::TestNsqd> kept = testing::StartNsqdWithLookupd(*lookupd);
  std::unique_ptr<testutil::TestNsqd> dropped = testing::StartNsqdWithLookupd(*lookupd);
};

TEST_CASE("An nsqd that stopped for good is dropped and the consumer goes on with the other") {
  TwoNodes nodes;
  PublishAll(*nodes.kept, "fleet", "kept", 20);
  PublishAll(*nodes.dropped, "fleet", "dropped", 20);
  const std::string kept = NsqdAddress(*nodes.kept);
  const std::string dropped = NsqdAddress(*nodes.dropped);

  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 4;
  Consumer consumer("fleet", "c", config);
  Deliveries deliveries;
  consumer.SetHandler(
      [&](Message& m) {
        deliveries.Add(m);
        return absl::OkStatus();
      },
      2);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*nodes.lookupd)));
  REQUIRE(WaitFor([&] { return deliveries.distinct() == 40; }, 15s));
  REQUIRE(consumer.Stats().connections == 2);

  CHECK(nodes.dropped->Stop().ok());
  CHECK(WaitFor([&] { return consumer.Stats().connections == 1; }, 10s));
  REQUIRE(WaitFor(
      [&] {
        return ListedTcpPorts(*nodes.lookupd, "fleet") ==
               std::set<int64_t>{nodes.kept->tcp_port()};
      },
      10s));
  const int attempts_when_unlisted = ConnectAttempts(log, dropped);

  PublishAll(*nodes.kept, "fleet", "later", 20);
  CHECK(WaitFor([&] { return deliveries.distinct() == 60; }, 15s));
  CHECK(deliveries.FromNsqd(kept) == 40);
  CHECK(deliveries.FromNsqd(dropped) == 20);
  CHECK(consumer.Stats().connections == 1);
  // Once lookupd no longer lists it, the consumer does not try it again (a lookupd answer
  // already on its way when we looked may still name it once).
  CHECK(ConnectAttempts(log, dropped) <= attempts_when_unlisted + 1);
  MESSAGE("connection attempts to the stopped nsqd: ", ConnectAttempts(log, dropped));
  CHECK(Stat(*nodes.kept, "fleet", "c", "depth") == 0);
}

TEST_CASE("A live nsqd that lookupd stops listing is closed cleanly, the other one kept") {
  TwoNodes nodes;
  PublishAll(*nodes.kept, "fleet", "kept", 20);
  // Plenty left on the dropped node, so it is mid-stream when it is retired.
  PublishAll(*nodes.dropped, "fleet", "dropped", 2000);
  const std::string kept = NsqdAddress(*nodes.kept);
  const std::string dropped = NsqdAddress(*nodes.dropped);

  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 4;
  Consumer consumer("fleet", "c", config);
  Deliveries deliveries;
  consumer.SetHandler(
      [&](Message& m) {
        deliveries.Add(m);
        std::this_thread::sleep_for(1ms);  // simulated work
        return absl::OkStatus();
      },
      2);
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*nodes.lookupd)));
  REQUIRE(WaitFor([&] { return deliveries.FromNsqd(kept) == 20; }, 15s));
  REQUIRE(WaitFor([&] { return deliveries.FromNsqd(dropped) >= 20; }, 15s));
  REQUIRE(consumer.Stats().connections == 2);

  // A tombstone hides the producer from /lookup (for --tombstone-lifetime, 45 s by default)
  // while nsqd keeps running and keeps the connection open: only the consumer can close it.
  auto tombstone = testutil::HttpPost(
      nodes.lookupd->http_port(),
      absl::StrCat("/topic/tombstone?topic=fleet&node=127.0.0.1:", nodes.dropped->http_port()));
  REQUIRE_MESSAGE(tombstone.ok(), tombstone.status().ToString());
  REQUIRE_MESSAGE(tombstone->status == 200, tombstone->body);
  REQUIRE(ListedTcpPorts(*nodes.lookupd, "fleet") == std::set<int64_t>{nodes.kept->tcp_port()});

  CHECK(WaitFor([&] { return consumer.Stats().connections == 1; }, 10s));
  CHECK(log.Contains(absl::StrCat("(", dropped, ") no longer listed by lookupd")));
  CHECK(WaitFor([&] { return Stat(*nodes.dropped, "fleet", "c", "client_count") == 0; }, 5s));
  // CLS first, then the messages already received were finished before closing: none is left
  // in flight for nsqd to time out or requeue.
  CHECK(Stat(*nodes.dropped, "fleet", "c", "in_flight_count") == 0);
  CHECK(Stat(*nodes.dropped, "fleet", "c", "requeue_count") == 0);
  CHECK(Stat(*nodes.dropped, "fleet", "c", "timeout_count") == 0);
  const uint64_t from_dropped = deliveries.FromNsqd(dropped);
  CHECK(Stat(*nodes.dropped, "fleet", "c", "depth") == 2000 - static_cast<int64_t>(from_dropped));

  PublishAll(*nodes.kept, "fleet", "later", 20);
  CHECK(WaitFor([&] { return deliveries.FromNsqd(kept) == 40; }, 15s));
  CHECK(deliveries.FromNsqd(dropped) == from_dropped);
  CHECK(consumer.Stats().connections == 1);
  CHECK(Stat(*nodes.dropped, "fleet", "c", "client_count") == 0);
}

TEST_CASE("A listed nsqd that refuses connections is retried at the poll interval, not in a loop") {
  auto lookupd = testing::StartLookupd();
  // An nsqd registration whose TCP port has no listener: a misconfigured broadcast address, or
  // the moment between an nsqd closing its listener and lookupd noticing.
  const uint16_t refused_port = testing::FreePort();
  auto registration = testutil::RawConn::Connect(lookupd->tcp_port());
  REQUIRE(registration.ok());
  protocol::LookupPeerInfo peer;
  peer.broadcast_address = "127.0.0.1";
  peer.hostname = "ghost";
  peer.tcp_port = refused_port;
  peer.http_port = testing::FreePort();
  peer.version = "1.3.0";
  CLIENT_REQUIRE_OK((*registration)
                        ->Send(absl::StrCat(std::string(protocol::kMagicV1),
                                            protocol::EncodeLookupIdentify(peer),
                                            protocol::EncodeLookupRegister("ghost"))));
  REQUIRE(WaitFor([&] { return ListedTcpPorts(*lookupd, "ghost").count(refused_port) == 1; },
                  5s));

  const std::string address = absl::StrCat("127.0.0.1:", refused_port);
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> attempts;
  Config config;
  config.lookupd_poll_interval = 100ms;
  config.lookupd_poll_jitter = 0.1;
  config.log_level = LogLevel::kDebug;
  config.logger = [&](LogLevel, const std::string& line) {
    if (line.find(absl::StrCat("(", address, ") connecting")) == std::string::npos) return;
    std::lock_guard<std::mutex> lock(mu);
    attempts.push_back(std::chrono::steady_clock::now());
  };
  Consumer consumer("ghost", "c", config);
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*lookupd)));
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return attempts.size() >= 4;
      },
      10s));
  consumer.Stop();
  std::lock_guard<std::mutex> lock(mu);
  const auto span = attempts.back() - attempts.front();
  MESSAGE(attempts.size(), " attempts in ",
          std::chrono::duration_cast<std::chrono::milliseconds>(span).count(), " ms");
  // go-nsq retries such a producer at the next lookupd poll; anything much faster hammers it.
  CHECK(span >= (attempts.size() - 1) * 50ms);
}

}  // namespace
}  // namespace nsq::client
