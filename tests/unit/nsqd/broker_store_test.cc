// Topics and channels over a real store (RocksDB in a temp dir) under a fake clock: overflow
// order, what stays stored until FIN, what a clean shutdown keeps, and store failures.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/fake_consumer.h"
#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/stored_broker.h"

namespace nsq::nsqd {
namespace {

using testing::FakeConsumer;
using testing::StoredBroker;

constexpr int64_t kSecond = 1'000'000'000;

std::vector<protocol::Body> Numbered(int from, int count) {
  std::vector<protocol::Body> out;
  for (int i = from; i < from + count; ++i) out.push_back(protocol::Body::Copy(std::to_string(i)));
  return out;
}

std::vector<std::string> BodiesOf(const std::vector<protocol::Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.emplace_back(m.body.view());
  return out;
}

std::vector<std::string> Range(int from, int count) {
  std::vector<std::string> out;
  for (int i = from; i < from + count; ++i) out.push_back(std::to_string(i));
  return out;
}

TEST_CASE("beyond --mem-queue-size a channel overflows to the store and delivers in order") {
  testutil::TempDir dir("broker-store");
  StoredBroker node(dir.path(), /*mem_queue_size=*/10);
  Channel* channel = node.channel("t", "c");
  for (int i = 0; i < 100; i += 10) REQUIRE(node.Publish(node.topic("t"), Numbered(i, 10)).ok());
  CHECK(channel->depth() == 100);
  CHECK(channel->backend_depth() == 90);

  FakeConsumer consumer(1000);
  node.Subscribe(channel, &consumer);
  CHECK(BodiesOf(consumer.received) == Range(0, 100));
  CHECK(channel->depth() == 0);
  CHECK(channel->backend_depth() == 0);
}

TEST_CASE("with --mem-queue-size=0 every message goes through the store; memory never holds one") {
  testutil::TempDir dir("broker-store");
  StoredBroker node(dir.path(), 0);
  Channel* channel = node.channel("t", "c");
  REQUIRE(node.Publish(node.topic("t"), Numbered(0, 3)).ok());
  CHECK(channel->depth() == 3);
  CHECK(channel->backend_depth() == 3);
}

TEST_CASE("a stored message stays stored until FIN: FIN out of order, then a restart") {
  testutil::TempDir dir("broker-store");
  {
    StoredBroker node(dir.path(), 0);
    Channel* channel = node.channel("t", "c");
    REQUIRE(node.Publish(node.topic("t"), Numbered(0, 10)).ok());
    FakeConsumer consumer(10);
    node.Subscribe(channel, &consumer);
    REQUIRE(consumer.received.size() == 10);
    for (int i : {2, 5, 7}) REQUIRE(channel->Finish(&consumer, consumer.received[i].id).ok());
  }
  StoredBroker node(dir.path(), 0);
  Channel* channel = node.channel("t", "c");
  CHECK(channel->depth() == 7);
  FakeConsumer consumer(10);
  node.Subscribe(channel, &consumer);
  CHECK(BodiesOf(consumer.received) ==
        std::vector<std::string>{"0", "1", "3", "4", "6", "8", "9"});
  // They were delivered once before the restart: the attempts were kept.
  for (const auto& message : consumer.received) CHECK(message.attempts == 2);
}

TEST_CASE("a clean shutdown puts memory-only messages in front of the stored backlog") {
  testutil::TempDir dir("broker-store");
  {
    StoredBroker node(dir.path(), 5);
    Channel* channel = node.channel("t", "c");
    for (int i = 0; i < 20; i += 5) REQUIRE(node.Publish(node.topic("t"), Numbered(i, 5)).ok());
    CHECK(channel->backend_depth() == 15);
    // One in flight (memory only) at shutdown: it comes back first.
    FakeConsumer consumer(1);
    node.Subscribe(channel, &consumer);
    REQUIRE(consumer.received.size() == 1);
  }
  StoredBroker node(dir.path(), 5);
  Channel* channel = node.channel("t", "c");
  CHECK(channel->depth() == 20);
  FakeConsumer consumer(100);
  node.Subscribe(channel, &consumer);
  CHECK(BodiesOf(consumer.received) == Range(0, 20));
  CHECK(consumer.received[0].attempts == 2);
}

TEST_CASE("a topic without channels overflows to the store and moves it all to its channels") {
  testutil::TempDir dir("broker-store");
  StoredBroker node(dir.path(), 5);
  Topic* topic = node.topic("t");
  for (int i = 0; i < 3000; i += 100) REQUIRE(node.Publish(topic, Numbered(i, 100)).ok());
  CHECK(topic->depth() == 3000);
  Channel* a = topic->GetOrCreateChannel("a");
  node.RunPosted();  // the move steps
  CHECK(topic->depth() == 0);
  Channel* b = topic->GetOrCreateChannel("b");
  // The move steps are writes of their own: a publish behind them waits for them to land.
  REQUIRE(node.Publish(topic, Numbered(3000, 1)).ok());
  // Only the first channel existed when the topic moved its messages on.
  CHECK(a->depth() == 3001);
  CHECK(b->depth() == 1);
  FakeConsumer consumer(5000);
  node.Subscribe(a, &consumer);
  CHECK(BodiesOf(consumer.received) == Range(0, 3001));
}

TEST_CASE("DPUB in store mode keeps its due time across a restart") {
  testutil::TempDir dir("broker-store");
  int64_t due = 0;
  {
    StoredBroker node(dir.path(), 0);
    node.channel("t", "c");
    REQUIRE(node.Publish(node.topic("t"), Numbered(0, 1), 10 * kSecond).ok());
    due = node.env().clock.NowNs() + 10 * kSecond;
  }
  StoredBroker node(dir.path(), 0);
  node.env().clock.Set(due - 4 * kSecond);
  Channel* channel = node.channel("t", "c");
  CHECK(channel->deferred_count() == 1);
  FakeConsumer consumer(10);
  node.Subscribe(channel, &consumer);
  node.env().timers.Advance(3 * kSecond);
  CHECK(consumer.received.empty());
  node.env().timers.Advance(1 * kSecond);
  CHECK(BodiesOf(consumer.received) == Range(0, 1));
}

TEST_CASE("a stored message requeued with a delay is stored as deferred, not held in the backlog") {
  testutil::TempDir dir("broker-store");
  {
    StoredBroker node(dir.path(), 0);
    Channel* channel = node.channel("t", "c");
    REQUIRE(node.Publish(node.topic("t"), Numbered(0, 2)).ok());
    FakeConsumer consumer(2);
    node.Subscribe(channel, &consumer);
    REQUIRE(consumer.received.size() == 2);
    REQUIRE(channel->Requeue(&consumer, consumer.received[0].id, 60 * kSecond).ok());
    REQUIRE(channel->Finish(&consumer, consumer.received[1].id).ok());
    CHECK(channel->deferred_count() == 1);
  }
  StoredBroker node(dir.path(), 0);
  Channel* channel = node.channel("t", "c");
  CHECK(channel->depth() == 0);
  CHECK(channel->deferred_count() == 1);
  FakeConsumer consumer(2);
  node.Subscribe(channel, &consumer);
  node.env().timers.Advance(61 * kSecond);
  CHECK(BodiesOf(consumer.received) == Range(0, 1));
}

TEST_CASE("channel empty drops its stored backlog, also across a restart") {
  testutil::TempDir dir("broker-store");
  {
    StoredBroker node(dir.path(), 2);
    Channel* channel = node.channel("t", "c");
    REQUIRE(node.Publish(node.topic("t"), Numbered(0, 50)).ok());
    channel->Empty();
    CHECK(channel->depth() == 0);
    REQUIRE(node.Publish(node.topic("t"), Numbered(50, 1)).ok());
  }
  StoredBroker node(dir.path(), 2);
  Channel* channel = node.channel("t", "c");
  FakeConsumer consumer(100);
  node.Subscribe(channel, &consumer);
  CHECK(BodiesOf(consumer.received) == Range(50, 1));
}

TEST_CASE("a failed store write fails the publish with an internal error; memory ones still work") {
  testutil::TempDir dir("broker-store");
  auto faults = std::make_shared<storage::FaultInjector>();
  StoredBroker node(dir.path(), 2, faults);
  Channel* channel = node.channel("t", "c");
  REQUIRE(node.Publish(node.topic("t"), Numbered(0, 2)).ok());  // fits in memory
  faults->FailWrites(storage::FaultKind::kIoError);
  absl::Status failed = node.Publish(node.topic("t"), Numbered(2, 5));
  CHECK(absl::IsInternal(failed));
  CHECK(failed.message().find("store write failed") != std::string::npos);
  CHECK(channel->depth() == 2);
  faults->Heal();
  REQUIRE(node.Publish(node.topic("t"), Numbered(7, 5)).ok());
  FakeConsumer consumer(100);
  node.Subscribe(channel, &consumer);
  CHECK(BodiesOf(consumer.received) ==
        std::vector<std::string>{"0", "1", "7", "8", "9", "10", "11"});
}

}  // namespace
}  // namespace nsq::nsqd
