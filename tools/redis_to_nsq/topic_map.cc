#include "tools/redis_to_nsq/topic_map.h"

#include "absl/strings/str_format.h"
#include "common/protocol/names.h"
#include "common/util/hash.h"

namespace nsq::redis_to_nsq {
namespace {

bool IsTopicByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

// Fits `name` (already made of valid bytes) into 64 bytes, keeping it unique by a hash.
std::string Shorten(const std::string& name, std::string_view whole) {
  if (name.size() <= protocol::kMaxNameLength) return name;
  return absl::StrFormat("%s_%08x", name.substr(0, protocol::kMaxNameLength - 9),
                         util::Crc32Ieee(whole));
}

}  // namespace

std::string DefaultTopicForQueue(std::string_view queue) {
  std::string topic;
  topic.reserve(queue.size());
  for (char c : queue) topic += IsTopicByte(c) ? c : '_';
  if (topic.empty()) topic.push_back('_');
  return Shorten(topic, queue);
}

std::string TopicMap::DeadTopic(std::string_view topic) {
  std::string dead = absl::StrFormat("%s.dead", topic);
  return Shorten(dead, dead);
}

absl::StatusOr<TopicMap> TopicMap::Create(const std::vector<std::string>& overrides,
                                          bool merge) {
  TopicMap map;
  map.merge_ = merge;
  for (const std::string& entry : overrides) {
    const size_t equals = entry.rfind('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("invalid --topic \"%s\" (want queue=topic)", entry));
    }
    const std::string queue = entry.substr(0, equals);
    const std::string topic = entry.substr(equals + 1);
    if (!protocol::IsValidTopicName(topic) || protocol::IsEphemeralName(topic)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "invalid --topic \"%s\": %s is not a valid NSQ topic name (1-64 bytes of "
          "[.a-zA-Z0-9_-], not #ephemeral)",
          entry, protocol::QuoteName(topic)));
    }
    if (!map.overrides_.emplace(queue, topic).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--topic names queue \"%s\" twice", queue));
    }
  }
  return map;
}

absl::Status TopicMap::Add(const std::string& queue) {
  if (topics_.contains(queue)) return absl::OkStatus();
  auto override = overrides_.find(queue);
  const std::string topic =
      override != overrides_.end() ? override->second : DefaultTopicForQueue(queue);
  auto [owner, inserted] = owners_.emplace(topic, queue);
  if (!inserted && !merge_) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "queues \"%s\" and \"%s\" would both move to topic %s; map one elsewhere with "
        "--topic, or pass --merge to let them share it",
        owner->second, queue, topic));
  }
  topics_.emplace(queue, topic);
  return absl::OkStatus();
}

std::string TopicMap::TopicFor(const std::string& queue) const {
  auto it = topics_.find(queue);
  return it == topics_.end() ? std::string() : it->second;
}

std::vector<std::string> TopicMap::UnusedOverrides() const {
  std::vector<std::string> unused;
  for (const auto& [queue, topic] : overrides_) {
    if (!topics_.contains(queue)) unused.push_back(queue);
  }
  return unused;
}

}  // namespace nsq::redis_to_nsq
