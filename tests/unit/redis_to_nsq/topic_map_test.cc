#include "tools/redis_to_nsq/topic_map.h"

#include <doctest/doctest.h>

#include "common/protocol/names.h"

namespace nsq::redis_to_nsq {
namespace {

TEST_CASE("a queue name becomes a valid topic name") {
  CHECK(DefaultTopicForQueue("default") == "default");
  CHECK(DefaultTopicForQueue("mail.low-priority_2") == "mail.low-priority_2");
  CHECK(DefaultTopicForQueue("billing:eu west") == "billing_eu_west");
  CHECK(DefaultTopicForQueue("") == "_");
  CHECK(DefaultTopicForQueue("caf\xc3\xa9") == "caf__");
  const std::string long_a(100, 'a');
  const std::string long_b = std::string(99, 'a') + "b";
  const std::string topic_a = DefaultTopicForQueue(long_a);
  CHECK(topic_a.size() == 64);
  CHECK(protocol::IsValidTopicName(topic_a));
  CHECK(topic_a != DefaultTopicForQueue(long_b));  // the hash keeps them apart
}

TEST_CASE("the dead topic of a long topic still fits") {
  CHECK(TopicMap::DeadTopic("mail") == "mail.dead");
  const std::string dead = TopicMap::DeadTopic(std::string(64, 't'));
  CHECK(dead.size() == 64);
  CHECK(protocol::IsValidTopicName(dead));
}

TEST_CASE("--topic overrides the default; two queues on one topic need --merge") {
  auto map = TopicMap::Create({"mail=mailers", "a:b=x=shared"}, /*merge=*/false);
  REQUIRE(map.ok());
  REQUIRE(map->Add("mail").ok());
  REQUIRE(map->Add("default").ok());
  CHECK(map->TopicFor("mail") == "mailers");
  CHECK(map->TopicFor("default") == "default");
  CHECK(map->TopicFor("unknown").empty());
  CHECK(map->UnusedOverrides() == std::vector<std::string>{"a:b=x"});

  auto collide = TopicMap::Create({"b=a"}, /*merge=*/false);
  REQUIRE(collide.ok());
  REQUIRE(collide->Add("a").ok());
  absl::Status refused = collide->Add("b");
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(std::string(refused.message()).find("--merge") != std::string::npos);
  // Two names that sanitize to the same topic collide too.
  auto sanitized = TopicMap::Create({}, /*merge=*/false);
  REQUIRE(sanitized->Add("a b").ok());
  CHECK_FALSE(sanitized->Add("a:b").ok());

  auto merged = TopicMap::Create({"b=a"}, /*merge=*/true);
  REQUIRE(merged->Add("a").ok());
  REQUIRE(merged->Add("b").ok());
  CHECK(merged->TopicFor("b") == "a");
}

TEST_CASE("bad --topic values are refused") {
  for (const char* entry : {"mail", "=x", "mail=", "mail=bad topic", "mail=t#ephemeral"}) {
    CAPTURE(entry);
    CHECK_FALSE(TopicMap::Create({entry}, false).ok());
  }
  CHECK_FALSE(TopicMap::Create({"q=a", "q=b"}, false).ok());
}

}  // namespace
}  // namespace nsq::redis_to_nsq
