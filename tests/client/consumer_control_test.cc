// Changing a running Consumer: ChangeMaxInFlight (0 pauses), DisconnectFromNsqd and
// DisconnectFromNsqLookupd, and what Stats() says about each connection meanwhile; IsStarved
// and the discovery filter.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "tests/client/client_test_util.h"
#include "tests/testutil/wait_for.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;
using testing::NsqdAddress;
using testing::PublishAll;
using testing::StartNsqd;
using testing::Stat;
using testutil::WaitFor;

// The stats of the connection to `address`; an empty one when there is none.
ConnectionStats ConnTo(const Consumer& consumer, const std::string& address) {
  for (const ConnectionStats& conn : consumer.Stats().per_connection) {
    if (conn.address == address) return conn;
  }
  return ConnectionStats();
}

TEST_CASE("ChangeMaxInFlight(0) pauses delivery and a non-zero value resumes it") {
  auto nsqd = StartNsqd();
  const std::string address = NsqdAddress(*nsqd);
  PublishAll(*nsqd, "pause", "m", 60);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 5;
  Consumer consumer("pause", "c", config);
  std::atomic<int> handled{0};
  consumer.SetHandler([&](Message&) {
    std::this_thread::sleep_for(5ms);  // simulated work: the backlog lasts a while
    ++handled;
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(address));
  REQUIRE(WaitFor([&] { return handled >= 10; }, 10s));
  CHECK(ConnTo(consumer, address).rdy == 5);
  CHECK(consumer.Stats().max_in_flight == 5);

  CLIENT_REQUIRE_OK(consumer.ChangeMaxInFlight(0));
  CHECK(consumer.Stats().max_in_flight == 0);
  // RDY 0 at once; what was in flight is finished, then nothing more comes.
  REQUIRE(WaitFor(
      [&] {
        const ConnectionStats conn = ConnTo(consumer, address);
        return conn.rdy == 0 && conn.in_flight == 0;
      },
      5s));
  REQUIRE(WaitFor([&] { return Stat(*nsqd, "pause", "c", "in_flight_count") == 0; }, 5s));
  const int paused_at = handled;
  CHECK(paused_at < 60);
  CHECK(Stat(*nsqd, "pause", "c", "depth") == 60 - paused_at);
  const ConnectionStats paused = ConnTo(consumer, address);
  CHECK(paused.subscribed);
  CHECK(!paused.from_lookupd);
  CHECK(paused.messages_received == static_cast<uint64_t>(paused_at));
  CHECK(paused.messages_finished == static_cast<uint64_t>(paused_at));
  CHECK(paused.backoff_level == 0);
  CHECK(log.Contains("max_in_flight 5 -> 0 (paused)"));

  CLIENT_REQUIRE_OK(consumer.ChangeMaxInFlight(20));
  CHECK(WaitFor([&] { return handled == 60; }, 10s));
  CHECK(ConnTo(consumer, address).rdy == 20);
  CHECK(absl::IsInvalidArgument(consumer.ChangeMaxInFlight(-1)));
  consumer.Stop();
  CHECK(absl::IsFailedPrecondition(consumer.ChangeMaxInFlight(3)));
}

TEST_CASE("DisconnectFromNsqd closes that connection only and does not reconnect to it") {
  auto a = StartNsqd();
  auto b = StartNsqd();
  testing::LogRecorder log;
  Consumer consumer("two", "c", log.MakeConfig());  // reconnects after 100 ms when dropped
  std::atomic<int> handled{0};
  consumer.SetHandler([&](Message&) {
    ++handled;
    return absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqds({NsqdAddress(*a), NsqdAddress(*b)}));
  REQUIRE(WaitFor([&] { return consumer.Stats().connections == 2; }, 10s));
  CHECK(consumer.Stats().per_connection.size() == 2);
  CHECK(absl::IsAlreadyExists(consumer.ConnectToNsqds({NsqdAddress(*a)})));

  CLIENT_REQUIRE_OK(consumer.DisconnectFromNsqd(NsqdAddress(*a)));
  CHECK(absl::IsNotFound(consumer.DisconnectFromNsqd(NsqdAddress(*a))));
  CHECK(absl::IsNotFound(consumer.DisconnectFromNsqd("127.0.0.1:1")));
  REQUIRE(WaitFor([&] { return consumer.Stats().connections == 1; }, 5s));
  CHECK(WaitFor([&] { return Stat(*a, "two", "c", "client_count") == 0; }, 5s));
  const std::vector<ConnectionStats> left = consumer.Stats().per_connection;
  REQUIRE(left.size() == 1);
  CHECK(left[0].address == NsqdAddress(*b));

  PublishAll(*a, "two", "a", 5);
  PublishAll(*b, "two", "b", 5);
  CHECK(WaitFor([&] { return handled == 5; }, 5s));
  // Several reconnect intervals later, still nobody on a.
  CHECK(!WaitFor([&] { return Stat(*a, "two", "c", "client_count") != 0; }, 400ms));
  CHECK(Stat(*a, "two", "c", "depth") == 5);
  CHECK(handled == 5);
  // It can be connected to again.
  CLIENT_CHECK_OK(consumer.ConnectToNsqd(NsqdAddress(*a)));
  CHECK(WaitFor([&] { return handled == 10; }, 10s));
}

TEST_CASE("DisconnectFromNsqLookupd removes one lookupd but not the last") {
  auto lookupd = testing::StartLookupd();
  const std::string other = absl::StrCat("127.0.0.1:", testing::FreePort());  // nobody there
  testing::LogRecorder log;
  Consumer consumer("t", "c", log.MakeConfig());
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupds({testing::LookupdAddress(*lookupd), other}));
  CHECK(absl::IsNotFound(consumer.DisconnectFromNsqLookupd("127.0.0.1:1")));
  CLIENT_CHECK_OK(consumer.DisconnectFromNsqLookupd(other));
  CHECK(absl::IsFailedPrecondition(
      consumer.DisconnectFromNsqLookupd(testing::LookupdAddress(*lookupd))));
  // Only the remaining lookupd is asked from now on (it does not know the topic: each poll
  // logs a NOT_FOUND line naming it).
  const std::string kept = absl::StrCat("lookupd ", testing::LookupdAddress(*lookupd), ":");
  const std::string gone = absl::StrCat("lookupd ", other, ":");
  const std::vector<std::string> before = log.Lines();
  auto count = [&](const std::string& needle) {
    int n = 0;
    const std::vector<std::string> lines = log.Lines();
    for (size_t i = before.size(); i < lines.size(); ++i) n += absl::StrContains(lines[i], needle);
    return n;
  };
  REQUIRE(WaitFor([&] { return count(kept) >= 3; }, 10s));
  const int other_failures = count(gone);
  CHECK(other_failures <= 1);  // a poll already under way may still ask it once
}

TEST_CASE("IsStarved: true while held messages fill 85% of RDY, false once answered") {
  auto nsqd = StartNsqd();
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  config.max_in_flight = 4;
  Consumer consumer("starve", "c", config);
  std::mutex mu;
  std::vector<Message> held;
  consumer.SetHandler([&](Message& m) {
    m.DisableAutoResponse();
    std::lock_guard<std::mutex> lock(mu);
    held.push_back(m);
    return absl::OkStatus();
  });
  auto held_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return held.size();
  };
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor([&] { return ConnTo(consumer, NsqdAddress(*nsqd)).rdy == 4; }, 5s));
  CHECK(!consumer.IsStarved());  // subscribed, nothing in flight
  PublishAll(*nsqd, "starve", "m", 2);
  REQUIRE(WaitFor([&] { return held_count() == 2; }, 5s));
  CHECK(!consumer.IsStarved());  // 2 of RDY 4: below 85%
  PublishAll(*nsqd, "starve", "n", 2);
  REQUIRE(WaitFor([&] { return held_count() == 4; }, 5s));
  CHECK(consumer.IsStarved());
  {
    std::lock_guard<std::mutex> lock(mu);
    for (Message& m : held) m.Finish();
  }
  CHECK(WaitFor([&] { return !consumer.IsStarved(); }, 5s));
  CHECK(WaitFor([&] { return Stat(*nsqd, "starve", "c", "in_flight_count") == 0; }, 5s));
  consumer.Stop();
}

TEST_CASE("A discovery filter picks which of lookupd's nsqd the consumer connects to") {
  auto lookupd = testing::StartLookupd();
  auto first = testing::StartNsqdWithLookupd(*lookupd);
  auto second = testing::StartNsqdWithLookupd(*lookupd);
  PublishAll(*first, "filtered", "a", 5);
  PublishAll(*second, "filtered", "b", 5);
  testing::LogRecorder log;
  Consumer consumer("filtered", "c", log.MakeConfig());
  std::atomic<int> from_second{0};
  std::atomic<int> other{0};
  consumer.SetHandler([&](Message& m) {
    ++(m.nsqd_address() == NsqdAddress(*second) ? from_second : other);
    return absl::OkStatus();
  });
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::string> offered;
  consumer.SetDiscoveryFilter([&](std::vector<std::string> addresses) {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      offered = addresses;
    }
    std::vector<std::string> kept;
    for (std::string& address : addresses) {
      if (address == NsqdAddress(*second)) kept.push_back(std::move(address));
    }
    return kept;
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqLookupd(testing::LookupdAddress(*lookupd)));
  REQUIRE(WaitFor([&] { return from_second == 5; }, 10s));
  // Another poll or two, and still only the second nsqd.
  const int polls = calls;
  REQUIRE(WaitFor([&] { return calls >= polls + 2; }, 10s));
  CHECK(other == 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(offered.size() == 2);  // the filter saw both
  }
  const ConsumerStats stats = consumer.Stats();
  REQUIRE(stats.per_connection.size() == 1);
  CHECK(stats.per_connection[0].address == NsqdAddress(*second));
  CHECK(stats.per_connection[0].from_lookupd);
  CHECK(Stat(*first, "filtered", "", "depth") == 5);  // never subscribed there: no channel
  consumer.Stop();
}

TEST_CASE("backoff_strategy full_jitter backs off a random part of multiplier * 2^level") {
  auto nsqd = StartNsqd();
  PublishAll(*nsqd, "jitter", "m", 1);
  testing::LogRecorder log;
  Config config = log.MakeConfig();
  CLIENT_REQUIRE_OK(config.Set("backoff_strategy", "full_jitter"));
  CLIENT_REQUIRE_OK(config.Set("backoff_multiplier", "200ms"));
  CLIENT_REQUIRE_OK(config.Set("max_backoff_duration", "10s"));
  Consumer consumer("jitter", "c", config);
  std::atomic<int> calls{0};
  consumer.SetHandler([&](Message&) {
    return calls++ == 0 ? absl::InternalError("fail once") : absl::OkStatus();
  });
  CLIENT_REQUIRE_OK(consumer.ConnectToNsqd(NsqdAddress(*nsqd)));
  REQUIRE(WaitFor([&] { return consumer.Stats().messages_finished == 1; }, 10s));
  // Level 1: exponential would wait exactly 200ms * 2 = 400ms; full jitter less.
  int64_t waited = -1;
  for (const std::string& line : log.Lines()) {
    if (absl::StrContains(line, "(level 1)")) {
      waited = std::atoll(line.substr(line.find("backing off for ") + 16).c_str());
    }
  }
  CHECK(waited >= 0);
  CHECK(waited < 400);
}

}  // namespace
}  // namespace nsq::client
