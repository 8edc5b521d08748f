// Topic and channel delivery logic under a fake clock.
#include <doctest/doctest.h>

#include "nsqd/broker/broker.h"
#include "tests/unit/nsqd/fake_consumer.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

using testing::FakeConsumer;
using testing::FakeEnv;

constexpr int64_t kSecond = 1'000'000'000;

std::vector<protocol::Body> Bodies(std::initializer_list<std::string_view> texts) {
  std::vector<protocol::Body> out;
  for (auto text : texts) out.push_back(protocol::Body::Copy(text));
  return out;
}

std::string BodyOf(const protocol::Message& message) { return std::string(message.body.view()); }

// The usual scene: topic "t" with one channel "c" under a fake clock.
struct OneChannel {
  OneChannel() : broker(env.context) {
    topic = broker.GetOrCreateTopic("t");
    channel = topic->GetOrCreateChannel("c");
  }
  FakeEnv env;
  Broker broker;
  Topic* topic;
  Channel* channel;
};

TEST_CASE("every channel of a topic gets every message, sharing one body") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* a = topic->GetOrCreateChannel("a");
  Channel* b = topic->GetOrCreateChannel("b");
  FakeConsumer ca(10), cb(10);
  REQUIRE(a->AddConsumer(&ca).ok());
  REQUIRE(b->AddConsumer(&cb).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"one", "two"})).ok());
  REQUIRE(ca.received.size() == 2);
  REQUIRE(cb.received.size() == 2);
  CHECK(BodyOf(ca.received[0]) == "one");
  CHECK(ca.received[0].id == cb.received[0].id);
  CHECK(ca.received[0].attempts == 1);
  // Same bytes, not copies: both channels' in-flight entries and both consumers hold one body.
  CHECK(ca.received[0].body.view().data() == cb.received[0].body.view().data());
}

TEST_CASE("a topic without channels keeps its messages for the first channel only") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2", "3"})).ok());
  CHECK(topic->depth() == 3);
  Channel* first = topic->GetOrCreateChannel("first");
  CHECK(topic->depth() == 0);
  CHECK(first->depth() == 3);
  Channel* second = topic->GetOrCreateChannel("second");
  CHECK(second->depth() == 0);
}

TEST_CASE("RDY is a window: a consumer never holds more than RDY messages in flight") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(2);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2", "3", "4"})).ok());
  CHECK(consumer.received.size() == 2);
  CHECK(channel->depth() == 2);
  REQUIRE(channel->Finish(&consumer, consumer.received[0].id).ok());
  consumer.Acked();
  channel->ConsumerReady();
  CHECK(consumer.received.size() == 3);
  CHECK(channel->in_flight_count() == 2);
}

TEST_CASE("messages of one channel go to one consumer each, spread over ready consumers") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer x(100), y(100);
  REQUIRE(channel->AddConsumer(&x).ok());
  REQUIRE(channel->AddConsumer(&y).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2", "3", "4"})).ok());
  CHECK(x.received.size() == 2);
  CHECK(y.received.size() == 2);
  CHECK(x.received[0].id != y.received[0].id);
}

TEST_CASE("an in-flight message times out and is redelivered with attempts + 1") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(1, 5 * kSecond);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"x"})).ok());
  REQUIRE(consumer.received.size() == 1);
  env.timers.Advance(4 * kSecond);
  CHECK(consumer.received.size() == 1);
  env.timers.Advance(1 * kSecond);
  CHECK(consumer.timed_out == 1);
  REQUIRE(consumer.received.size() == 2);
  CHECK(consumer.received[1].attempts == 2);
  CHECK(consumer.received[1].id == consumer.received[0].id);
  CHECK(channel->Stats(false).timeout_count == 1);
  // A FIN for the first delivery's id now finishes the redelivery: ids are per message.
  CHECK(channel->Finish(&consumer, consumer.received[1].id).ok());
}

TEST_CASE("TOUCH pushes the deadline out, but never past max-msg-timeout") {
  FakeEnv env;
  env.options.max_msg_timeout = absl::Seconds(8);
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("c");
  FakeConsumer consumer(1, 5 * kSecond);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"x"})).ok());
  env.timers.Advance(4 * kSecond);
  REQUIRE(channel->Touch(&consumer, consumer.received[0].id).ok());
  env.timers.Advance(3 * kSecond);  // t=7s: the first deadline (5s) has passed
  CHECK(consumer.timed_out == 0);
  env.timers.Advance(1 * kSecond);  // t=8s: capped by max-msg-timeout
  CHECK(consumer.timed_out == 1);
}

TEST_CASE("REQ with a delay defers the message; REQ 0 redelivers at once") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(1);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"x"})).ok());
  REQUIRE(channel->Requeue(&consumer, consumer.received[0].id, 2 * kSecond).ok());
  consumer.Acked();
  channel->ConsumerReady();
  CHECK(consumer.received.size() == 1);
  CHECK(channel->deferred_count() == 1);
  env.timers.Advance(2 * kSecond);
  REQUIRE(consumer.received.size() == 2);
  CHECK(consumer.received[1].attempts == 2);
  REQUIRE(channel->Requeue(&consumer, consumer.received[1].id, 0).ok());
  consumer.Acked();
  channel->ConsumerReady();
  REQUIRE(consumer.received.size() == 3);
  CHECK(consumer.received[2].attempts == 3);
  CHECK(channel->Stats(false).requeue_count == 2);
}

TEST_CASE("FIN, REQ and TOUCH of an unknown or foreign id fail with nsqd's reasons") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer owner(1), other(1);
  REQUIRE(channel->AddConsumer(&owner).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"x"})).ok());
  REQUIRE(channel->AddConsumer(&other).ok());
  const auto id = owner.received[0].id;
  CHECK(channel->Finish(&other, id).message() == "client does not own message");
  CHECK(channel->Requeue(&other, id, 0).message() == "client does not own message");
  CHECK(channel->Touch(&other, id).message() == "client does not own message");
  CHECK(channel->Finish(&owner, protocol::MessageId::FromUint64(99)).message() ==
        "ID not in flight");
}

TEST_CASE("DPUB messages wait in each channel's deferred queue until due") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(5);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"later"}), 3 * kSecond).ok());
  CHECK(consumer.received.empty());
  CHECK(channel->deferred_count() == 1);
  CHECK(channel->Stats(false).message_count == 1);
  env.timers.Advance(3 * kSecond - 1);
  CHECK(consumer.received.empty());
  env.timers.Advance(1);
  REQUIRE(consumer.received.size() == 1);
  CHECK(consumer.received[0].attempts == 1);
}

TEST_CASE("a vanished consumer's in-flight messages go straight to the remaining consumers") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer gone(2);
  REQUIRE(channel->AddConsumer(&gone).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2"})).ok());
  REQUIRE(gone.received.size() == 2);
  FakeConsumer stays(5);
  REQUIRE(channel->AddConsumer(&stays).ok());
  channel->RemoveConsumer(&gone);
  REQUIRE(stays.received.size() == 2);
  CHECK(BodyOf(stays.received[0]) == "1");
  CHECK(stays.received[0].attempts == 2);
}

TEST_CASE("a paused channel delivers nothing until unpaused") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(5);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  channel->Pause();
  REQUIRE(testing::PublishNow(topic, Bodies({"1"})).ok());
  CHECK(consumer.received.empty());
  channel->Unpause();
  CHECK(consumer.received.size() == 1);
}

TEST_CASE("a paused topic keeps messages until unpaused") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  topic->Pause();
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2"})).ok());
  CHECK(topic->depth() == 2);
  CHECK(channel->depth() == 0);
  topic->Unpause();
  CHECK(topic->depth() == 0);
  CHECK(channel->depth() == 2);
}

TEST_CASE("emptying a channel drops ready, in-flight and deferred messages") {
  OneChannel f;
  auto& [env, broker, topic, channel] = f;
  FakeConsumer consumer(1);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2"})).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"3"}), kSecond).ok());
  channel->Empty();
  CHECK(channel->depth() == 0);
  CHECK(channel->in_flight_count() == 0);
  CHECK(channel->deferred_count() == 0);
  CHECK(consumer.in_flight == 0);
  CHECK(channel->Finish(&consumer, consumer.received[0].id).message() == "ID not in flight");
}

TEST_CASE("a publish that would overflow memory is refused whole, and nothing is queued") {
  FakeEnv env;
  env.options.mem_queue_size = 3;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  REQUIRE(testing::PublishNow(topic, Bodies({"1", "2"})).ok());
  absl::Status refused = testing::PublishNow(topic, Bodies({"3", "4"}));
  CHECK(absl::IsResourceExhausted(refused));
  CHECK(topic->depth() == 2);
  Channel* channel = topic->GetOrCreateChannel("c");
  CHECK(channel->depth() == 2);
  REQUIRE(testing::PublishNow(topic, Bodies({"3"})).ok());
  CHECK(absl::IsResourceExhausted(testing::PublishNow(topic, Bodies({"4"}))));
  CHECK(channel->depth() == 3);
}

TEST_CASE("an ephemeral channel drops overflow instead of refusing the publish") {
  FakeEnv env;
  env.options.mem_queue_size = 1;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("tail#ephemeral");
  REQUIRE(testing::PublishNow(topic, Bodies({"1"})).ok());
  REQUIRE(testing::PublishNow(topic, Bodies({"2"})).ok());
  CHECK(channel->depth() == 1);
}

TEST_CASE("sample rate delivers roughly the requested share and consumes the rest") {
  FakeEnv env;
  env.options.mem_queue_size = 20000;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("c");
  FakeConsumer consumer(20000);
  consumer.sample_rate = 42;
  REQUIRE(channel->AddConsumer(&consumer).ok());
  std::vector<protocol::Body> bodies(10000, protocol::Body::Copy("m"));
  REQUIRE(testing::PublishNow(topic, bodies).ok());
  CHECK(consumer.received.size() >= 3700);
  CHECK(consumer.received.size() <= 4700);
  CHECK(channel->depth() == 0);
}

TEST_CASE("message ids of a topic are unique and increasing") {
  FakeEnv env;
  env.options.mem_queue_size = 10000;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("c");
  FakeConsumer consumer(10000);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  std::vector<protocol::Body> bodies(5000, protocol::Body::Copy("m"));
  REQUIRE(testing::PublishNow(topic, bodies).ok());
  REQUIRE(consumer.received.size() == 5000);
  for (size_t i = 1; i < consumer.received.size(); ++i) {
    CHECK(consumer.received[i - 1].id < consumer.received[i].id);
  }
}

}  // namespace
}  // namespace nsq::nsqd

namespace nsq::nsqd {
namespace {

TEST_CASE("a topic held for channel discovery keeps messages until released, then fans out") {
  testing::FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  topic->HoldForChannelDiscovery();
  Channel* early = topic->GetOrCreateChannel("early");
  REQUIRE(testing::PublishNow(topic, {protocol::Body::Copy("1")}).ok());
  Channel* discovered = topic->GetOrCreateChannel("discovered");
  CHECK(topic->depth() == 1);
  topic->ReleaseHold();
  CHECK(early->depth() == 1);
  CHECK(discovered->depth() == 1);
}

}  // namespace
}  // namespace nsq::nsqd
