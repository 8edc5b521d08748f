// BrokerSet: work reaches a topic's owner, and /stats gathers every shard's topics as one
// broker would list them.
#include "nsqd/broker/broker_set.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/two_shards.h"

namespace nsq::nsqd {
namespace {

std::vector<std::string> Names(const BrokerStats& stats) {
  std::vector<std::string> names;
  for (const TopicStats& topic : stats.topics) names.push_back(topic.topic_name);
  return names;
}

TEST_CASE("OnOwner runs on the shard that owns the topic, OnEach on every shard") {
  testing::TwoShards shards;
  const std::string far = testing::TwoShards::TopicOf(1, "far");
  const std::string near = testing::TwoShards::TopicOf(0, "near");
  std::vector<size_t> ran_on;
  shards.OnOwner(near, [&](Broker& broker) {
    ran_on.push_back(shards.current());
    broker.GetOrCreateTopic(near);
  });
  CHECK(ran_on == std::vector<size_t>{0});  // the caller's own shard: at once
  shards.OnOwner(far, [&](Broker& broker) {
    ran_on.push_back(shards.current());
    broker.GetOrCreateTopic(far);
  });
  CHECK(ran_on.size() == 1);
  shards.RunPosted();
  CHECK(ran_on == std::vector<size_t>{0, 1});
  CHECK(shards.broker(1).FindTopic(far) != nullptr);
  CHECK(shards.broker(0).FindTopic(far) == nullptr);

  std::vector<size_t> each;
  shards.OnEach([&](Broker&) { each.push_back(shards.current()); });
  shards.RunPosted();
  CHECK(each == std::vector<size_t>{0, 1});
}

TEST_CASE("GatherStats merges every shard's topics by name; a topic filter asks its owner") {
  testing::TwoShards shards;
  std::vector<std::string> all;
  for (const std::string& name : {testing::TwoShards::TopicOf(1, "b"), testing::TwoShards::TopicOf(0, "a"),
                                  testing::TwoShards::TopicOf(1, "c"), testing::TwoShards::TopicOf(0, "d")}) {
    shards.broker(TopicOwner(name, 2)).GetOrCreateTopic(name)->GetOrCreateChannel("ch");
    all.push_back(name);
  }
  std::sort(all.begin(), all.end());

  std::optional<BrokerStats> gathered;
  GatherStats(shards, "", "", true, [&](BrokerStats stats) { gathered = std::move(stats); });
  CHECK_FALSE(gathered.has_value());  // shard 1 has not answered yet
  shards.RunPosted();
  REQUIRE(gathered.has_value());
  CHECK(Names(*gathered) == all);
  CHECK(gathered->topic_found);

  const std::string far = testing::TwoShards::TopicOf(1, "c");
  gathered.reset();
  GatherStats(shards, far, "", true, [&](BrokerStats stats) { gathered = std::move(stats); });
  shards.RunPosted();
  REQUIRE(gathered.has_value());
  CHECK(Names(*gathered) == std::vector<std::string>{far});
  CHECK(gathered->topic_found);

  gathered.reset();
  GatherStats(shards, "missing", "", true, [&](BrokerStats stats) { gathered = std::move(stats); });
  shards.RunPosted();
  REQUIRE(gathered.has_value());
  CHECK(gathered->topics.empty());
  CHECK_FALSE(gathered->topic_found);
}

}  // namespace
}  // namespace nsq::nsqd
