// What durable mode (--mem-queue-size=0 --sync-every=1) promises across a crash: every message
// nsqd acknowledged (PUB/MPUB/DPUB answered OK) is on disk before the OK, so a kill -9 at any
// moment loses none of them; messages delivered but not finished come back after the restart;
// a deferred message keeps its due time. Duplicates are allowed (at-least-once).
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

const std::vector<std::string> kDurableFlags = {"--mem-queue-size=0", "--sync-every=1"};

// What the publishers and consumers of one crash test saw; shared by their threads.
class Ledger {
 public:
  void Acknowledge(const std::vector<std::string>& bodies) {
    std::lock_guard lock(mu_);
    acknowledged_.insert(bodies.begin(), bodies.end());
  }
  void Receive(std::string body) {
    std::lock_guard lock(mu_);
    ++received_[std::move(body)];
  }
  // A failure that a kill -9 does not explain (an error frame, a timeout), for the report.
  void Unexpected(std::string what) {
    std::lock_guard lock(mu_);
    unexpected_.push_back(std::move(what));
  }

  size_t acknowledged() const {
    std::lock_guard lock(mu_);
    return acknowledged_.size();
  }
  size_t received() const {
    std::lock_guard lock(mu_);
    return received_.size();
  }
  // Deliveries beyond the first of each body.
  size_t duplicates() const {
    std::lock_guard lock(mu_);
    size_t extra = 0;
    for (const auto& [body, count] : received_) extra += count - 1;
    return extra;
  }
  // Acknowledged bodies never received, in order.
  std::vector<std::string> Lost() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> lost;
    for (const std::string& body : acknowledged_) {
      if (!received_.contains(body)) lost.push_back(body);
    }
    return lost;
  }
  std::vector<std::string> unexpected() const {
    std::lock_guard lock(mu_);
    return unexpected_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> acknowledged_;
  std::map<std::string, int> received_;
  std::vector<std::string> unexpected_;
};

// True for the statuses RawConn reports once nsqd is gone (EOF, reset).
bool ConnectionEnded(const absl::Status& status) { return absl::IsUnavailable(status); }

// Publishes "c<cycle>-p<publisher>-<i>" bodies, one PUB (batch == 1) or one MPUB of `batch` at
// a time, each waiting for its answer, until the connection ends (nsqd was killed). Only
// bodies whose OK arrived go into the ledger.
void PublishUntilKilled(RawConn* conn, std::string_view topic, int cycle, int publisher, int batch,
                        Ledger* ledger) {
  for (int i = 0;; i += batch) {
    std::vector<std::string> bodies;
    for (int j = i; j < i + batch; ++j)
      bodies.push_back(absl::StrCat("c", cycle, "-p", publisher, "-", j));
    absl::Status sent = batch == 1 ? conn->Pub(topic, bodies[0]) : conn->Mpub(topic, bodies);
    if (!sent.ok()) return;  // the socket is gone
    absl::Status answer = conn->ExpectOk(std::chrono::seconds(10));
    if (!answer.ok()) {
      if (!ConnectionEnded(answer)) {
        ledger->Unexpected(absl::StrCat("publisher ", publisher, ": ", answer.ToString()));
      }
      return;
    }
    ledger->Acknowledge(bodies);
  }
}

// Records every message delivered to `conn` and FINs all but every 20th, until the connection
// ends. The unfinished ones are in flight when nsqd is killed.
void ConsumeUntilKilled(RawConn* conn, Ledger* ledger) {
  for (int delivered = 1;; ++delivered) {
    absl::StatusOr<protocol::Message> message = conn->ReadMessage(std::chrono::seconds(10));
    if (!message.ok()) {
      if (!ConnectionEnded(message.status())) {
        ledger->Unexpected(absl::StrCat("consumer: ", message.status().ToString()));
      }
      return;
    }
    ledger->Receive(std::string(message->body.view()));
    if (delivered % 20 != 0 && !conn->Fin(message->id.view()).ok()) return;
  }
}

TEST_CASE("in durable mode kill -9 at random moments loses no acknowledged message") {
  constexpr int kCycles = 6;
  constexpr std::string_view kTopic = "crash";
  constexpr std::string_view kChannel = "ch";
  const unsigned seed = std::random_device{}();
  MESSAGE("random seed ", seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> kill_after_ms(200, 800);

  auto nsqd = StartNsqd(kDurableFlags);
  Ledger ledger;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    // The consumer subscribes first, so from the first cycle on the channel exists.
    auto consumer = Subscribe(*nsqd, kTopic, kChannel, 100);
    consumer->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
    auto pub_conn = ConnectV2(*nsqd);
    auto mpub_conn = ConnectV2(*nsqd);
    std::thread consume(ConsumeUntilKilled, consumer.get(), &ledger);
    std::thread pub(PublishUntilKilled, pub_conn.get(), kTopic, cycle, 0, 1, &ledger);
    std::thread mpub(PublishUntilKilled, mpub_conn.get(), kTopic, cycle, 1, 10, &ledger);
    // Not a wait for something: the crash lands at a random point of the traffic.
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(random)));
    nsqd->Kill9();
    pub.join();
    mpub.join();
    consume.join();
    NSQ_REQUIRE_OK(nsqd->Restart());
  }

  // Drain everything left (backlog, and what was in flight at the last crash).
  auto drain = Subscribe(*nsqd, kTopic, kChannel, 100);
  drain->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
  while (true) {
    absl::StatusOr<protocol::Message> message = drain->ReadMessage(std::chrono::seconds(2));
    if (!message.ok()) {
      CHECK_MESSAGE(absl::IsDeadlineExceeded(message.status()), message.status().ToString());
      break;
    }
    ledger.Receive(std::string(message->body.view()));
    NSQ_REQUIRE_OK(drain->Fin(message->id.view()));
  }
  CHECK(WaitFor(
      [&] {
        return TopicStat(*nsqd, kTopic, "depth") == 0 &&
               ChannelStat(*nsqd, kTopic, kChannel, "depth") == 0 &&
               ChannelStat(*nsqd, kTopic, kChannel, "in_flight_count") == 0;
      },
      5s));

  const std::vector<std::string> lost = ledger.Lost();
  MESSAGE("cycles=", kCycles, ", acknowledged=", ledger.acknowledged(),
          ", received=", ledger.received(), ", lost=", lost.size(),
          ", duplicates=", ledger.duplicates());
  CHECK(ledger.acknowledged() > 0);
  CHECK_MESSAGE(lost.empty(), "lost (first 20): ",
                absl::StrJoin(lost.begin(), lost.begin() + std::min<size_t>(lost.size(), 20), " "));
  CHECK_MESSAGE(ledger.unexpected().empty(), absl::StrJoin(ledger.unexpected(), "; "));
}

TEST_CASE("messages in flight when nsqd is killed are redelivered after the restart") {
  auto nsqd = StartNsqd(kDurableFlags);
  auto consumer = Subscribe(*nsqd, "inflight", "ch", 20);
  std::set<std::string> published;
  std::vector<std::string> bodies;
  for (int i = 0; i < 20; ++i) bodies.push_back(absl::StrCat("f", i));
  published.insert(bodies.begin(), bodies.end());
  PublishMany(*nsqd, "inflight", bodies);
  std::set<std::string> delivered;
  for (int i = 0; i < 20; ++i)
    delivered.insert(std::string(MustReadMessage(*consumer).body.view()));
  REQUIRE(delivered == published);
  CHECK(ChannelStat(*nsqd, "inflight", "ch", "in_flight_count") == 20);

  nsqd->Kill9();
  consumer.reset();
  NSQ_REQUIRE_OK(nsqd->Restart());

  auto after = Subscribe(*nsqd, "inflight", "ch", 20);
  std::set<std::string> redelivered;
  while (redelivered.size() < published.size()) {
    absl::StatusOr<protocol::Message> message = after->ReadMessage(5s);
    if (!message.ok()) {
      FAIL_CHECK("after the restart only ", redelivered.size(),
                 " of 20 came back: ", message.status().ToString());
      break;
    }
    redelivered.insert(std::string(message->body.view()));
    NSQ_REQUIRE_OK(after->Fin(message->id.view()));
  }
  CHECK(redelivered == published);
}

TEST_CASE("a deferred message published in durable mode survives kill -9 and keeps its delay") {
  auto nsqd = StartNsqd(kDurableFlags);
  Subscribe(*nsqd, "later", "ch", 0);  // the channel exists, so the DPUB is deferred in it
  auto producer = ConnectV2(*nsqd);
  const int64_t published_at = NowUnixNanos();
  NSQ_REQUIRE_OK(producer->Dpub("later", 3000, "due"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  nsqd->Kill9();
  producer.reset();
  NSQ_REQUIRE_OK(nsqd->Restart());

  auto consumer = Subscribe(*nsqd, "later", "ch", 1);
  // Nothing until shortly before the due time (100 ms of slack for clocks and scheduling).
  const int64_t quiet_ms = (published_at + 2'900'000'000 - NowUnixNanos()) / 1'000'000;
  if (quiet_ms > 0) NSQ_CHECK_OK(consumer->ExpectNoFrame(std::chrono::milliseconds(quiet_ms)));
  absl::StatusOr<protocol::Message> message = consumer->ReadMessage(5s);
  NSQ_REQUIRE_OK(message);
  const int64_t delivered_after_ns = NowUnixNanos() - published_at;
  CHECK(std::string(message->body.view()) == "due");
  CHECK(delivered_after_ns >= 2'900'000'000);
  MESSAGE("delivered ", delivered_after_ns / 1'000'000, " ms after the DPUB");
}

}  // namespace
}  // namespace nsq::testutil
