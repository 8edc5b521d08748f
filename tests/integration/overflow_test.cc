// Overflow of messages from memory to the store (RocksDB): past --mem-queue-size, a topic or a
// channel keeps its messages on disk, in publish order, and the consumer cannot tell the
// difference (NSQ's diskqueue backend, with our store). Checked through the real nsqd: order
// across memory and store, depth/backend_depth in /stats, restarts, DPUB and REQ in store
// mode, empty/delete of a backlog, and the data directory shrinking once everything is read.
#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

using Clock = std::chrono::steady_clock;

// Bodies carry their publish index: 8 zero-padded digits, then 'x' up to the wanted size. The
// consumer recovers the index and checks that the rest came back intact from the store.
constexpr size_t kIndexDigits = 8;

std::string MakeBody(int64_t index, size_t size = kIndexDigits) {
  std::string body = std::to_string(index);
  body.insert(0, kIndexDigits - body.size(), '0');
  body.resize(std::max(size, kIndexDigits), 'x');
  return body;
}

// The index of a body made by MakeBody, or nullopt when it is not one.
std::optional<int64_t> BodyIndex(std::string_view body) {
  if (body.size() < kIndexDigits) return std::nullopt;
  int64_t index = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + kIndexDigits, index);
  if (ec != std::errc() || end != body.data() + kIndexDigits) return std::nullopt;
  if (body.find_first_not_of('x', kIndexDigits) != std::string_view::npos) return std::nullopt;
  return index;
}

// Publishes MakeBody(first) ... MakeBody(first + count - 1) with MPUBs of `batch` bodies over
// one connection. A few MPUBs stay unanswered at a time, so the broker sets the pace rather
// than the round trips.
void PublishNumbered(const TestNsqd& nsqd, std::string_view topic, int64_t first, int64_t count,
                     int64_t batch, size_t body_size = kIndexDigits) {
  constexpr int kUnanswered = 8;
  std::unique_ptr<RawConn> producer = ConnectV2(nsqd);
  producer->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
  int unanswered = 0;
  for (int64_t start = first; start < first + count; start += batch) {
    std::vector<std::string> bodies;
    for (int64_t i = start; i < std::min(start + batch, first + count); ++i) {
      bodies.push_back(MakeBody(i, body_size));
    }
    NSQ_REQUIRE_OK(producer->Mpub(topic, bodies));
    if (++unanswered == kUnanswered) {
      NSQ_REQUIRE_OK(producer->ExpectOk(30s));
      --unanswered;
    }
  }
  for (; unanswered > 0; --unanswered) NSQ_REQUIRE_OK(producer->ExpectOk(30s));
}

void MustPost(const TestNsqd& nsqd, const std::string& target) {
  INFO("POST ", target);
  absl::StatusOr<HttpResponse> response = HttpPost(nsqd.http_port(), target);
  NSQ_REQUIRE_OK(response);
  REQUIRE_MESSAGE(response->status == 200, response->status, " ", response->body);
}

void CreateChannel(const TestNsqd& nsqd, const std::string& topic, const std::string& channel) {
  MustPost(nsqd, "/topic/create?topic=" + topic);
  MustPost(nsqd, "/channel/create?topic=" + topic + "&channel=" + channel);
}

// The counters of one channel (or topic), read from a single /stats document; -1 when the
// object or field is missing.
struct Counts {
  int64_t depth = -1;
  int64_t backend_depth = -1;
  int64_t in_flight = -1;
  int64_t deferred = -1;

  std::string ToString() const {
    return "depth=" + std::to_string(depth) + " backend_depth=" + std::to_string(backend_depth) +
           " in_flight=" + std::to_string(in_flight) + " deferred=" + std::to_string(deferred);
  }
};

int64_t Field(const boost::json::object* object, std::string_view field) {
  if (object == nullptr) return -1;
  const boost::json::value* value = object->if_contains(field);
  if (value == nullptr) return -1;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) return static_cast<int64_t>(value->get_uint64());
  return -1;
}

Counts CountsOf(const boost::json::object* object) {
  return Counts{.depth = Field(object, "depth"),
                .backend_depth = Field(object, "backend_depth"),
                .in_flight = Field(object, "in_flight_count"),
                .deferred = Field(object, "deferred_count")};
}

Counts ChannelCounts(const TestNsqd& nsqd, std::string_view topic, std::string_view channel) {
  boost::json::value stats = GetStats(nsqd);
  return CountsOf(FindChannel(stats, topic, channel));
}

Counts TopicCounts(const TestNsqd& nsqd, std::string_view topic) {
  boost::json::value stats = GetStats(nsqd);
  return CountsOf(FindTopic(stats, topic));
}

// Waits until a channel has nothing left: nothing waiting, in flight or deferred (FINs are
// asynchronous, so the last ones may still be on their way).
void RequireChannelDrained(const TestNsqd& nsqd, std::string_view topic, std::string_view channel) {
  Counts counts;
  const bool drained = WaitFor(
      [&] {
        counts = ChannelCounts(nsqd, topic, channel);
        return counts.depth == 0 && counts.backend_depth == 0 && counts.in_flight == 0 &&
               counts.deferred == 0;
      },
      5s);
  CHECK_MESSAGE(drained, std::string(channel), ": ", counts.ToString());
}

struct Delivery {
  int64_t index = -1;
  uint16_t attempts = 0;
  protocol::MessageId id;
  Clock::time_point arrived;
};

// A subscribed consumer that reads message frames in bulk (whatever the socket holds, decoded
// here) and finishes them with one write per bulk read: fast enough for 100k-message tests.
class BulkConsumer {
 public:
  BulkConsumer(const TestNsqd& nsqd, std::string_view topic, std::string_view channel, int64_t rdy)
      : conn_(Subscribe(nsqd, topic, channel, rdy)) {}

  RawConn& conn() { return *conn_; }

  // Receives messages until `count` arrived or `timeout` passed, in arrival order. FINs each
  // one when `finish` (the FINs are sent before every wait for more data and at the end).
  std::vector<Delivery> Receive(size_t count, std::chrono::milliseconds timeout,
                                bool finish = true) {
    const Clock::time_point until = Clock::now() + timeout;
    std::vector<Delivery> out;
    std::string fins;
    protocol::Frame frame;
    while (out.size() < count) {
      if (!decoder_.Next(&frame)) {
        REQUIRE_MESSAGE(decoder_.status().ok(), decoder_.status().ToString());
        if (!fins.empty()) NSQ_REQUIRE_OK(conn_->Send(fins));
        fins.clear();
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left <= 0ms) break;
        absl::StatusOr<std::string> bytes = conn_->ReadAvailable(left);
        if (absl::IsDeadlineExceeded(bytes.status())) break;
        NSQ_REQUIRE_OK(bytes);
        decoder_.Feed(*bytes);
        continue;
      }
      if (frame.type == protocol::FrameType::kResponse && frame.data == protocol::kHeartbeat) {
        protocol::EncodeNop(&fins);
        continue;
      }
      REQUIRE_MESSAGE(frame.type == protocol::FrameType::kMessage, DescribeFrame(frame));
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame.data);
      NSQ_REQUIRE_OK(message);
      std::optional<int64_t> index = BodyIndex(message->body.view());
      REQUIRE_MESSAGE(index.has_value(), "a body that was not published: ", DescribeFrame(frame));
      out.push_back(Delivery{.index = *index,
                             .attempts = message->attempts,
                             .id = message->id,
                             .arrived = Clock::now()});
      if (finish) protocol::EncodeFin(message->id.view(), &fins);
    }
    if (!fins.empty()) NSQ_REQUIRE_OK(conn_->Send(fins));
    return out;
  }

 private:
  std::unique_ptr<RawConn> conn_;
  protocol::FrameDecoder decoder_;
};

// How deliveries compare with "each of first .. first+count-1 exactly once, in order".
struct Tally {
  int64_t missing = 0;
  int64_t duplicates = 0;
  int64_t unexpected = 0;    // outside the range
  int64_t out_of_order = 0;  // not above the index delivered before it
  std::string first_out_of_order;

  bool Perfect() const {
    return missing == 0 && duplicates == 0 && unexpected == 0 && out_of_order == 0;
  }
  std::string ToString() const {
    return "missing=" + std::to_string(missing) + " duplicates=" + std::to_string(duplicates) +
           " unexpected=" + std::to_string(unexpected) +
           " out_of_order=" + std::to_string(out_of_order) + first_out_of_order;
  }
};

Tally TallyDeliveries(const std::vector<Delivery>& deliveries, int64_t first, int64_t count) {
  Tally tally;
  std::vector<int> seen(static_cast<size_t>(count), 0);
  int64_t previous = -1;
  for (size_t position = 0; position < deliveries.size(); ++position) {
    const int64_t index = deliveries[position].index;
    if (index < first || index >= first + count) {
      ++tally.unexpected;
      continue;
    }
    if (++seen[static_cast<size_t>(index - first)] > 1) ++tally.duplicates;
    if (index <= previous) {
      if (tally.out_of_order++ == 0) {
        tally.first_out_of_order = " (first: index " + std::to_string(index) + " after " +
                                   std::to_string(previous) + " at position " +
                                   std::to_string(position) + ")";
      }
    }
    previous = index;
  }
  tally.missing = std::count(seen.begin(), seen.end(), 0);
  return tally;
}

void CheckAllInOrder(const std::vector<Delivery>& deliveries, int64_t count,
                     std::string_view what) {
  Tally tally = TallyDeliveries(deliveries, 0, count);
  CHECK_MESSAGE(tally.Perfect(), std::string(what), ": ", deliveries.size(), " deliveries of ",
                count, " messages: ", tally.ToString());
}

// The bytes in regular files under `path`. RocksDB deletes files while we walk, so a walk that
// loses a file is repeated rather than reported short.
uint64_t DirectorySize(const std::string& path) {
  namespace fs = std::filesystem;
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    uint64_t total = 0;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code entry_ec;
      if (!it->is_regular_file(entry_ec)) continue;
      const uintmax_t size = it->file_size(entry_ec);
      if (entry_ec) {
        ec = entry_ec;
        break;
      }
      total += size;
    }
    if (!ec || attempt == 10) return total;
  }
}

TEST_CASE("messages past --mem-queue-size go to the store and come back in publish order") {
  auto nsqd = StartNsqd({"--mem-queue-size=100"});
  CreateChannel(*nsqd, "spill", "ch");
  PublishNumbered(*nsqd, "spill", 0, 5000, 100);

  Counts counts;
  CHECK_MESSAGE(WaitFor(
                    [&] {
                      counts = ChannelCounts(*nsqd, "spill", "ch");
                      return counts.depth == 5000;
                    },
                    5s),
                counts.ToString());
  // At most 100 in memory plus some read-ahead: most of the backlog is in the store.
  CHECK_MESSAGE(counts.backend_depth > 0, counts.ToString());
  CHECK_MESSAGE(counts.backend_depth <= 5000, counts.ToString());

  BulkConsumer consumer(*nsqd, "spill", "ch", 200);
  std::vector<Delivery> got = consumer.Receive(5000, 20s);
  CheckAllInOrder(got, 5000, "channel ch");
  CHECK(consumer.Receive(1, 300ms).empty());
  RequireChannelDrained(*nsqd, "spill", "ch");
}

TEST_CASE("with --mem-queue-size=0 every channel gets every message through the store, in order") {
  auto nsqd = StartNsqd({"--mem-queue-size=0"});
  BulkConsumer a(*nsqd, "all_store", "a", 0);
  BulkConsumer b(*nsqd, "all_store", "b", 0);
  PublishNumbered(*nsqd, "all_store", 0, 2000, 100);

  for (std::string_view channel : {"a", "b"}) {
    Counts counts;
    CHECK_MESSAGE(WaitFor(
                      [&] {
                        counts = ChannelCounts(*nsqd, "all_store", channel);
                        return counts.depth == 2000;
                      },
                      5s),
                  channel, ": ", counts.ToString());
    CHECK_MESSAGE(counts.backend_depth > 0, channel, ": ", counts.ToString());
  }

  NSQ_REQUIRE_OK(a.conn().Rdy(200));
  NSQ_REQUIRE_OK(b.conn().Rdy(200));
  CheckAllInOrder(a.Receive(2000, 20s), 2000, "channel a");
  CheckAllInOrder(b.Receive(2000, 20s), 2000, "channel b");
  CHECK(a.Receive(1, 300ms).empty());
  CHECK(b.Receive(1, 0ms).empty());
  RequireChannelDrained(*nsqd, "all_store", "a");
  RequireChannelDrained(*nsqd, "all_store", "b");
}

TEST_CASE("a topic without channels overflows to the store and its first channel gets it all") {
  auto nsqd = StartNsqd({"--mem-queue-size=50"});
  PublishNumbered(*nsqd, "no_channel_yet", 0, 3000, 100);
  Counts topic = TopicCounts(*nsqd, "no_channel_yet");
  CHECK_MESSAGE(topic.depth == 3000, topic.ToString());
  CHECK_MESSAGE(topic.backend_depth > 0, topic.ToString());

  SUBCASE("the channel appears right away") {}
  SUBCASE("the channel appears after a clean restart") {
    NSQ_REQUIRE_OK(nsqd->Restart());
    topic = TopicCounts(*nsqd, "no_channel_yet");
    CHECK_MESSAGE(topic.depth == 3000, "right after the restart: ", topic.ToString());
  }
  BulkConsumer consumer(*nsqd, "no_channel_yet", "first", 200);
  CheckAllInOrder(consumer.Receive(3000, 20s), 3000, "channel first");
  CHECK(consumer.Receive(1, 300ms).empty());
  RequireChannelDrained(*nsqd, "no_channel_yet", "first");
  topic = TopicCounts(*nsqd, "no_channel_yet");
  CHECK_MESSAGE(topic.depth == 0, topic.ToString());
  CHECK_MESSAGE(topic.backend_depth == 0, topic.ToString());
}

TEST_CASE("100k messages across memory and store survive a clean restart, each delivered once") {
  constexpr int64_t kTotal = 100'000;
  constexpr int64_t kFinishedBefore = 1000;
  auto nsqd = StartNsqd({"--mem-queue-size=10000"});
  CreateChannel(*nsqd, "big_restart", "ch");
  PublishNumbered(*nsqd, "big_restart", 0, kTotal, 500);

  // Finish the first 1000; the RDY window leaves up to 100 more in flight at the stop.
  std::set<int64_t> finished;
  auto before = std::make_unique<BulkConsumer>(*nsqd, "big_restart", "ch", 100);
  for (const Delivery& d : before->Receive(kFinishedBefore, 20s)) finished.insert(d.index);
  REQUIRE(finished.size() == kFinishedBefore);
  NSQ_REQUIRE_OK(before->conn().Rdy(0));
  Counts counts;
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        counts = ChannelCounts(*nsqd, "big_restart", "ch");
                        return counts.depth + counts.in_flight == kTotal - kFinishedBefore;
                      },
                      5s),
                  counts.ToString());
  MESSAGE("before the stop: ", counts.ToString());

  absl::StatusOr<int> code = nsqd->Stop();
  NSQ_REQUIRE_OK(code);
  REQUIRE(*code == 0);
  before.reset();
  NSQ_REQUIRE_OK(nsqd->Restart());

  counts = ChannelCounts(*nsqd, "big_restart", "ch");
  CHECK_MESSAGE(counts.depth == kTotal - kFinishedBefore,
                "right after the restart: ", counts.ToString());

  BulkConsumer after(*nsqd, "big_restart", "ch", 2500);
  std::vector<Delivery> got = after.Receive(kTotal - kFinishedBefore, 30s);
  CHECK(after.Receive(1, 500ms).empty());

  // Together with what was finished before: every message exactly once.
  std::vector<Delivery> all;
  for (int64_t index : finished) {
    Delivery finished_before;
    finished_before.index = index;
    all.push_back(finished_before);
  }
  all.insert(all.end(), got.begin(), got.end());
  Tally tally = TallyDeliveries(all, 0, kTotal);
  CHECK_MESSAGE(tally.missing == 0, tally.ToString());
  CHECK_MESSAGE(tally.duplicates == 0, tally.ToString());
  CHECK_MESSAGE(tally.unexpected == 0, tally.ToString());
  // The messages never delivered before (attempt 1) still come in publish order; those that
  // were in flight at the stop come back with attempt 2, wherever the broker puts them.
  std::vector<Delivery> first_attempts;
  for (const Delivery& d : got) {
    if (d.attempts == 1) first_attempts.push_back(d);
  }
  Tally order = TallyDeliveries(first_attempts, 0, kTotal);
  CHECK_MESSAGE(order.out_of_order == 0, order.ToString());
  MESSAGE("after the restart: ", got.size(), " deliveries, ", got.size() - first_attempts.size(),
          " of them redeliveries");
  RequireChannelDrained(*nsqd, "big_restart", "ch");
}

TEST_CASE("a producer pipelining 5000 PUBs to the store gets 5000 OKs, then its messages") {
  // More publishes in flight than a connection may have waiting for the store (1024): nsqd
  // stops reading this connection until replies go out, then carries on.
  auto nsqd = StartNsqd({"--mem-queue-size=0", "--sync-every=1"});
  constexpr int kCount = 5000;
  std::string pipeline;
  for (int i = 0; i < kCount; ++i) protocol::EncodePub("pipelined", MakeBody(i), &pipeline);
  auto producer = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(producer->Send(pipeline));
  for (int i = 0; i < kCount; ++i) {
    auto frame = producer->ReadFrame(10s);
    NSQ_REQUIRE_OK(frame);
    REQUIRE(frame->type == protocol::FrameType::kResponse);
    REQUIRE(frame->data == "OK");
  }
  BulkConsumer consumer(*nsqd, "pipelined", "ch", /*rdy=*/500);
  CheckAllInOrder(consumer.Receive(kCount, 20s), kCount, "pipelined PUBs");
}

TEST_CASE("DPUB in store mode is delivered on time, also across a clean restart") {
  auto nsqd = StartNsqd({"--mem-queue-size=0"});

  SUBCASE("without a restart") {
    BulkConsumer consumer(*nsqd, "deferred_store", "ch", 1);
    std::unique_ptr<RawConn> producer = ConnectV2(*nsqd);
    const Clock::time_point published = Clock::now();
    NSQ_REQUIRE_OK(producer->Dpub("deferred_store", 2000, MakeBody(7)));
    NSQ_REQUIRE_OK(producer->ExpectOk());
    CHECK(ChannelCounts(*nsqd, "deferred_store", "ch").deferred == 1);

    CHECK(consumer.Receive(1, 1800ms).empty());
    std::vector<Delivery> got = consumer.Receive(1, 3s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].index == 7);
    CHECK(got[0].arrived - published >= 1950ms);
    RequireChannelDrained(*nsqd, "deferred_store", "ch");
  }

  SUBCASE("with a clean restart while deferred") {
    CreateChannel(*nsqd, "deferred_store", "ch");
    const Clock::time_point published = Clock::now();
    {
      std::unique_ptr<RawConn> producer = ConnectV2(*nsqd);
      NSQ_REQUIRE_OK(producer->Dpub("deferred_store", 2000, MakeBody(8)));
      NSQ_REQUIRE_OK(producer->ExpectOk());
    }
    absl::StatusOr<int> code = nsqd->Stop();
    NSQ_REQUIRE_OK(code);
    REQUIRE(*code == 0);
    NSQ_REQUIRE_OK(nsqd->Restart());

    BulkConsumer consumer(*nsqd, "deferred_store", "ch", 1);
    std::vector<Delivery> got = consumer.Receive(1, 5s);
    REQUIRE_MESSAGE(got.size() == 1, "the deferred message was lost in the restart");
    CHECK(got[0].index == 8);
    CHECK(got[0].arrived - published >= 1950ms);
    CHECK(consumer.Receive(1, 300ms).empty());
    RequireChannelDrained(*nsqd, "deferred_store", "ch");
  }
}

TEST_CASE("emptying a channel drops its store backlog; only later messages are delivered") {
  auto nsqd = StartNsqd({"--mem-queue-size=10"});
  CreateChannel(*nsqd, "emptied", "ch");
  PublishNumbered(*nsqd, "emptied", 0, 500, 100);
  Counts counts;
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        counts = ChannelCounts(*nsqd, "emptied", "ch");
                        return counts.depth == 500;
                      },
                      5s),
                  counts.ToString());
  CHECK_MESSAGE(counts.backend_depth > 0, counts.ToString());

  MustPost(*nsqd, "/channel/empty?topic=emptied&channel=ch");
  counts = ChannelCounts(*nsqd, "emptied", "ch");
  CHECK_MESSAGE(counts.depth == 0, counts.ToString());
  CHECK_MESSAGE(counts.backend_depth == 0, counts.ToString());

  PublishNumbered(*nsqd, "emptied", 1000, 3, 3);
  SUBCASE("delivered right away") {}
  SUBCASE("delivered after a clean restart") {
    NSQ_REQUIRE_OK(nsqd->Restart());
    counts = ChannelCounts(*nsqd, "emptied", "ch");
    CHECK_MESSAGE(counts.depth == 3, counts.ToString());
  }
  BulkConsumer consumer(*nsqd, "emptied", "ch", 100);
  std::vector<Delivery> got = consumer.Receive(3, 5s);
  CHECK(consumer.Receive(1, 300ms).empty());
  std::vector<int64_t> indexes;
  for (const Delivery& d : got) indexes.push_back(d.index);
  CHECK(indexes == std::vector<int64_t>{1000, 1001, 1002});
  RequireChannelDrained(*nsqd, "emptied", "ch");
}

TEST_CASE("deleting a channel or a topic with a store backlog removes the backlog") {
  auto nsqd = StartNsqd({"--mem-queue-size=10"});

  SUBCASE("channel delete, then the channel is created again") {
    CreateChannel(*nsqd, "deleted", "ch");
    CreateChannel(*nsqd, "deleted", "other");
    PublishNumbered(*nsqd, "deleted", 0, 500, 100);
    MustPost(*nsqd, "/channel/delete?topic=deleted&channel=ch");
    BulkConsumer consumer(*nsqd, "deleted", "ch", 100);
    CHECK(consumer.Receive(1, 500ms).empty());
    PublishNumbered(*nsqd, "deleted", 1000, 1, 1);
    std::vector<Delivery> got = consumer.Receive(1, 5s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].index == 1000);
    CHECK(consumer.Receive(1, 300ms).empty());
    // The other channel keeps its own copy of everything.
    BulkConsumer other(*nsqd, "deleted", "other", 200);
    std::vector<Delivery> kept = other.Receive(501, 10s);
    REQUIRE(kept.size() == 501);
    CHECK(kept.back().index == 1000);
    kept.pop_back();
    CheckAllInOrder(kept, 500, "channel other");
  }

  SUBCASE("topic delete, then a restart, then the topic is used again") {
    CreateChannel(*nsqd, "deleted", "ch");
    PublishNumbered(*nsqd, "deleted", 0, 500, 100);
    MustPost(*nsqd, "/topic/delete?topic=deleted");
    NSQ_REQUIRE_OK(nsqd->Restart());
    CHECK(TopicCounts(*nsqd, "deleted").depth == -1);
    PublishNumbered(*nsqd, "deleted", 1000, 1, 1);
    BulkConsumer consumer(*nsqd, "deleted", "ch", 100);
    std::vector<Delivery> got = consumer.Receive(1, 5s);
    REQUIRE(got.size() == 1);
    CHECK(got[0].index == 1000);
    CHECK(consumer.Receive(1, 300ms).empty());
  }
}

TEST_CASE("a store-backed message can be requeued at once or with a delay") {
  auto nsqd = StartNsqd({"--mem-queue-size=0"});
  BulkConsumer consumer(*nsqd, "requeued", "ch", 2);
  PublishNumbered(*nsqd, "requeued", 0, 10, 10);

  std::vector<Delivery> first_two = consumer.Receive(2, 5s, /*finish=*/false);
  REQUIRE(first_two.size() == 2);
  CHECK(first_two[0].index == 0);
  CHECK(first_two[1].index == 1);
  NSQ_REQUIRE_OK(consumer.conn().Req(first_two[0].id.view(), 0));
  NSQ_REQUIRE_OK(consumer.conn().Req(first_two[1].id.view(), 1000));
  const Clock::time_point requeued = Clock::now();
  Counts counts;
  CHECK_MESSAGE(WaitFor(
                    [&] {
                      counts = ChannelCounts(*nsqd, "requeued", "ch");
                      return counts.deferred == 1;
                    },
                    800ms),
                counts.ToString());

  // 8 first deliveries and the 2 requeued messages again.
  std::vector<Delivery> rest = consumer.Receive(10, 5s);
  CHECK(consumer.Receive(1, 300ms).empty());
  std::vector<int> deliveries(10, 0);
  for (const Delivery& d : rest) {
    REQUIRE(d.index >= 0);
    REQUIRE(d.index < 10);
    ++deliveries[static_cast<size_t>(d.index)];
    CHECK_MESSAGE(d.attempts == (d.index < 2 ? 2 : 1), "index ", d.index);
    if (d.index == 1) CHECK(d.arrived - requeued >= 950ms);
  }
  CHECK(deliveries == std::vector<int>(10, 1));
  RequireChannelDrained(*nsqd, "requeued", "ch");
}

TEST_CASE("the data directory shrinks once a large store backlog has been consumed") {
  constexpr int64_t kTotal = 200'000;
  constexpr size_t kBodySize = 200;
  auto nsqd = StartNsqd({"--mem-queue-size=0"});
  CreateChannel(*nsqd, "shrink", "ch");
  PublishNumbered(*nsqd, "shrink", 0, kTotal, 1000, kBodySize);
  const uint64_t peak = DirectorySize(nsqd->data_path());
  MESSAGE("data dir after publishing ", kTotal, " x ", kBodySize, " bytes: ", peak, " bytes");
  CHECK(ChannelCounts(*nsqd, "shrink", "ch").depth == kTotal);

  BulkConsumer consumer(*nsqd, "shrink", "ch", 2500);
  std::vector<Delivery> got = consumer.Receive(kTotal, 40s);
  CheckAllInOrder(got, kTotal, "channel ch");
  RequireChannelDrained(*nsqd, "shrink", "ch");

  uint64_t size = DirectorySize(nsqd->data_path());
  MESSAGE("data dir right after consuming: ", size, " bytes");
  const bool shrunk = WaitFor(
      [&] {
        size = DirectorySize(nsqd->data_path());
        return size < peak / 4;
      },
      30s);
  CHECK_MESSAGE(shrunk, "data dir still ", size, " bytes; peak ", peak, " bytes");
  MESSAGE("data dir at the end: ", size, " bytes");
}

}  // namespace
}  // namespace nsq::testutil
