// Which NSQ topic each Redis queue moves to. By default a queue's topic is its name made a valid
// NSQ topic name; --topic queue=topic overrides that. Two queues on one topic is refused unless
// --merge is given (their jobs would interleave in one topic, which is rarely meant).
//
//   absl::StatusOr<TopicMap> map = TopicMap::Create({"mail=mailers"}, /*merge=*/false);
//   map->Add("default");            // "default" -> "default"
//   map->Add("mail");               // "mail" -> "mailers"
//   map->TopicFor("mail");          // "mailers"
//   TopicMap::DeadTopic("mailers");  // "mailers.dead" (where dead jobs go, as nsq::jobs does)
//
// Pure. Not thread-safe: the migrator guards it when queues appear while it runs (--follow).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::redis_to_nsq {

// `queue` made a valid NSQ topic name: bytes outside [.a-zA-Z0-9_-] become '_', and a name
// longer than 64 bytes keeps its first 55 and gets '_' and 8 hex digits of a hash of the whole
// name, so different long names stay different. An empty name becomes "_".
std::string DefaultTopicForQueue(std::string_view queue);

class TopicMap {
 public:
  // `overrides` are "queue=topic" (split at the last '='); each topic must be a valid NSQ topic
  // name (not ephemeral: jobs must not be dropped).
  static absl::StatusOr<TopicMap> Create(const std::vector<std::string>& overrides, bool merge);

  // Maps `queue` (idempotent). Fails when its topic already belongs to another queue and
  // merging was not allowed.
  absl::Status Add(const std::string& queue);
  // The topic of a queue added before; empty when it was not.
  std::string TopicFor(const std::string& queue) const;
  // Where the dead jobs of a queue with topic `topic` go: "<topic>.dead", shortened as
  // DefaultTopicForQueue does when it would exceed 64 bytes.
  static std::string DeadTopic(std::string_view topic);

  // queue -> topic, sorted by queue.
  const std::map<std::string, std::string>& entries() const { return topics_; }
  // An override names a queue that is not in the map (a typo, or an empty queue).
  std::vector<std::string> UnusedOverrides() const;

 private:
  std::map<std::string, std::string> overrides_;
  std::map<std::string, std::string> topics_;  // queue -> topic
  std::map<std::string, std::string> owners_;  // topic -> first queue
  bool merge_ = false;
};

}  // namespace nsq::redis_to_nsq
