// The drain loops: claim a batch atomically into the migrator's processing key, publish it,
// acknowledge it (remove it from the processing key) only after nsqd's OK. ../shared/
// REDIS-QUEUES.md A3 explains why this loses nothing; docs/migration.md says it for operators.
//
//   ListDrainer drainer(settings, &targets, &limiter, {&in_progress_stats, &queue_stats});
//   absl::Status s = drainer.Run();   // until the lists are empty, or a stop (--follow: only a stop)
//
// Each drainer runs on its own thread with its own Redis connection; NsqTargets, RateLimiter
// and LockedTopicMap are shared.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/redis_to_nsq/key_layout.h"
#include "tools/redis_to_nsq/nsq_targets.h"
#include "tools/redis_to_nsq/rate_limiter.h"
#include "tools/redis_to_nsq/redis_client.h"
#include "tools/redis_to_nsq/redis_session.h"
#include "tools/redis_to_nsq/stats.h"
#include "tools/redis_to_nsq/topic_map.h"

namespace nsq::redis_to_nsq {

struct DrainSettings {
  RedisEndpoint redis;
  KeyLayout layout{Format::kSidekiq, ""};
  std::string id;                   // --id: names the processing keys
  int64_t batch = 500;              // --batch: jobs per claim
  int64_t batch_bytes = 4 << 20;    // and at most about this many bytes
  int64_t max_msg_size = 1 << 20;   // nsqd's --max-msg-size: larger jobs are quarantined
  int64_t max_body_size = 5 << 20;  // nsqd's --max-body-size: MPUB chunks stay below it
  bool strict = false;              // --strict: quarantine payloads that are not JSON objects
  bool follow = false;              // --follow: wait for more jobs instead of finishing
  bool use_lmove = true;            // Redis >= 6.2; RPOPLPUSH / BRPOPLPUSH before
  absl::Duration horizon = absl::Hours(1);  // sorted sets: take entries due within this
  absl::Duration max_req_timeout = absl::Hours(1);  // nsqd's: the longest DPUB delay
  std::vector<std::string> queue_filter;    // --queues (empty: all)
};

// The topic map, guarded: sorted-set members may name queues nobody listed (--follow adds
// queues as they appear).
class LockedTopicMap {
 public:
  explicit LockedTopicMap(TopicMap map) : map_(std::move(map)) {}
  // The queue's topic, mapping it first if it is new; an error when it collides (no --merge).
  absl::StatusOr<std::string> TopicFor(const std::string& queue);
  TopicMap Snapshot();

 private:
  std::mutex mu_;
  TopicMap map_;
};

// Why a payload cannot be published (it goes to the quarantine list); empty when it can.
std::string RefusalOf(std::string_view payload, const DrainSettings& settings);

// Drains one queue's lists in order: in-progress lists first (their jobs were taken first),
// then the queue itself. All go to `topic`.
class ListDrainer {
 public:
  ListDrainer(const DrainSettings* settings, NsqTargets* targets, RateLimiter* limiter,
              std::string topic, std::vector<SourceStats*> sources);
  absl::Status Run();

 private:
  absl::Status DrainList(SourceStats& stats);
  // Publishes `jobs` (oldest first; they are the right end of the processing list) and
  // acknowledges each chunk once nsqd took it.
  absl::Status PublishBatch(SourceStats& stats, std::vector<std::string>& jobs,
                            const std::string& processing, const std::string& quarantine);
  absl::Status PublishChunk(SourceStats& stats, std::vector<std::string>& chunk,
                            const std::string& processing, const std::string& quarantine);
  absl::Status Acknowledge(const std::string& processing, size_t count);
  absl::Status QuarantineOldest(SourceStats& stats, const std::string& processing,
                                const std::string& quarantine, std::string_view why);

  const DrainSettings& settings_;
  NsqTargets* targets_;
  RateLimiter* limiter_;
  std::string topic_;
  std::vector<SourceStats*> sources_;
  RedisSession redis_;
  RedisScript claim_;
};

// Drains the sorted sets (schedule, retry, dead): due entries are published at once, later
// ones with DPUB and their remaining delay, up to the horizon. With --follow it looks again
// every second, so entries are moved as they come within the horizon.
class SetDrainer {
 public:
  SetDrainer(const DrainSettings* settings, NsqTargets* targets, RateLimiter* limiter,
             LockedTopicMap* topics, std::vector<SourceStats*> sources);
  absl::Status Run();

 private:
  // Claims and publishes until nothing within the horizon is left in this set.
  absl::Status DrainOnce(SourceStats& stats);
  absl::Status Quarantine(SourceStats& stats, const std::string& processing,
                          const std::string& member, std::string_view why);
  // Puts a claimed member back into its set (a leftover whose delay is now beyond nsqd's
  // --max-req-timeout, from a run with a longer horizon).
  absl::Status PutBack(SourceStats& stats, const std::string& processing,
                       const std::string& member, const std::string& score);
  absl::Status Acknowledge(const std::string& processing, const std::vector<std::string>& members);

  const DrainSettings& settings_;
  NsqTargets* targets_;
  RateLimiter* limiter_;
  LockedTopicMap* topics_;
  std::vector<SourceStats*> sources_;
  RedisSession redis_;
  RedisScript claim_;
  RedisScript quarantine_;
  RedisScript put_back_;
};

}  // namespace nsq::redis_to_nsq
