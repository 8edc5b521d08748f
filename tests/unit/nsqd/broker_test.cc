#include "nsqd/broker/broker.h"

#include <doctest/doctest.h>

#include "tests/unit/nsqd/fake_consumer.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

using testing::FakeConsumer;
using testing::FakeEnv;

TEST_CASE("an ephemeral channel is deleted when its last consumer leaves, then its topic") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t#ephemeral");
  Channel* channel = topic->GetOrCreateChannel("c#ephemeral");
  FakeConsumer consumer(1);
  REQUIRE(channel->AddConsumer(&consumer).ok());
  channel->RemoveConsumer(&consumer);
  CHECK(broker.FindTopic("t#ephemeral") != nullptr);  // deletion runs later, not in the call
  env.RunPosted();
  CHECK(broker.FindTopic("t#ephemeral") == nullptr);
}

TEST_CASE("an ephemeral channel that got a new consumer before cleanup survives") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  Channel* channel = topic->GetOrCreateChannel("c#ephemeral");
  FakeConsumer first(1), second(1);
  REQUIRE(channel->AddConsumer(&first).ok());
  channel->RemoveConsumer(&first);
  REQUIRE(channel->AddConsumer(&second).ok());
  env.RunPosted();
  CHECK(topic->FindChannel("c#ephemeral") == channel);
}

TEST_CASE("deleting a topic closes the connections of all its channels") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  FakeConsumer a(1), b(1);
  REQUIRE(topic->GetOrCreateChannel("a")->AddConsumer(&a).ok());
  REQUIRE(topic->GetOrCreateChannel("b")->AddConsumer(&b).ok());
  REQUIRE(broker.DeleteTopic("t").ok());
  CHECK(a.closed);
  CHECK(b.closed);
  CHECK(broker.FindTopic("t") == nullptr);
  CHECK(absl::IsNotFound(broker.DeleteTopic("t")));
}

TEST_CASE("stats filter by topic and channel the way nsqd does") {
  FakeEnv env;
  Broker broker(env.context);
  broker.GetOrCreateTopic("b")->GetOrCreateChannel("x");
  broker.GetOrCreateTopic("a")->GetOrCreateChannel("y");
  REQUIRE(testing::PublishNow(broker.GetOrCreateTopic("a"), {protocol::Body::Copy("hello")}).ok());

  BrokerStats all = broker.Stats("", "", true);
  REQUIRE(all.topics.size() == 2);
  CHECK(all.topics[0].topic_name == "a");
  CHECK(all.topics[0].message_count == 1);
  CHECK(all.topics[0].message_bytes == 5);
  CHECK(all.topics[0].channels[0].depth == 1);

  BrokerStats missing = broker.Stats("nosuch", "", true);
  CHECK_FALSE(missing.topic_found);

  BrokerStats channel_missing = broker.Stats("a", "nosuch", true);
  CHECK(channel_missing.topic_found);
  CHECK(channel_missing.topics.empty());

  BrokerStats by_channel = broker.Stats("", "x", true);
  REQUIRE(by_channel.topics.size() == 1);
  CHECK(by_channel.topics[0].topic_name == "b");
}

TEST_CASE("closing the broker refuses new publishes") {
  FakeEnv env;
  Broker broker(env.context);
  Topic* topic = broker.GetOrCreateTopic("t");
  bool drained = false;
  broker.Close([&] { drained = true; });
  CHECK(drained);
  CHECK(absl::IsUnavailable(testing::PublishNow(topic, {protocol::Body::Copy("x")})));
}

}  // namespace
}  // namespace nsq::nsqd

namespace nsq::nsqd {
namespace {

class RecordingListener final : public BrokerListener {
 public:
  void TopicCreated(const std::string& t) override { events.push_back("+" + t); }
  void TopicDeleted(const std::string& t) override { events.push_back("-" + t); }
  void ChannelCreated(const std::string& t, const std::string& c) override {
    events.push_back("+" + t + ":" + c);
  }
  void ChannelDeleted(const std::string& t, const std::string& c) override {
    events.push_back("-" + t + ":" + c);
  }
  std::vector<std::string> events;
};

TEST_CASE("the broker listener hears every topic and channel come and go") {
  testing::FakeEnv env;
  Broker broker(env.context);
  RecordingListener listener;
  broker.AddListener(&listener);
  broker.GetOrCreateTopic("t")->GetOrCreateChannel("c");
  broker.GetOrCreateTopic("t")->GetOrCreateChannel("c");  // exists: no event
  REQUIRE(broker.FindTopic("t")->DeleteChannel("c").ok());
  REQUIRE(broker.DeleteTopic("t").ok());
  CHECK(listener.events == std::vector<std::string>{"+t", "+t:c", "-t:c", "-t"});
}

}  // namespace
}  // namespace nsq::nsqd
