// Before anything moves: which layout Redis holds (Sidekiq or go-workers), which keys hold jobs,
// which of them this run drains and why the others are left, and which queues there are to
// map to topics. Read-only: planning writes nothing to Redis (--dry-run stops after it).
//
//   absl::StatusOr<Plan> plan = MakePlan(redis, options);
//   for (const SourcePlan& s : plan->sources) ...   // s.selected, s.skip_reason, s.count
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/redis_to_nsq/key_layout.h"
#include "tools/redis_to_nsq/redis_client.h"

namespace nsq::redis_to_nsq {

struct PlanOptions {
  std::optional<Format> format;  // nullopt: detect (--format=auto)
  std::string ns;                // --namespace
  std::vector<std::string> queues;  // --queues; empty: all
  bool include_scheduled = false;
  bool include_retry = false;
  bool include_dead = false;
  bool adopt_in_progress = false;
  absl::Duration horizon = absl::Hours(1);
};

struct SourcePlan {
  Source source;
  bool selected = false;
  std::string skip_reason;  // why it is left alone, when not selected
  int64_t count = 0;        // jobs in it now
  int64_t beyond_horizon = 0;  // sorted sets: entries due later than now + horizon
};

struct Plan {
  Format format = Format::kSidekiq;
  std::string detection;  // what --format=auto found, for the operator
  KeyLayout layout{Format::kSidekiq, ""};
  std::vector<SourcePlan> sources;  // lists sorted by queue (in-progress lists first), then sets
  // Queues whose jobs this run moves (lists and, as far as scanned, set members): the topic map.
  std::set<std::string> queues;
  // Sidekiq processes that heartbeat right now (the `processes` set): their in-progress jobs
  // must not be adopted.
  int64_t live_sidekiq_processes = 0;
};

// The layout of the keys under `ns`: what auto-detection found, or an error when Redis holds
// both layouts' telltale keys.
absl::StatusOr<Format> DetectFormat(RedisClient& redis, const std::string& ns,
                                    std::string* evidence);

absl::StatusOr<Plan> MakePlan(RedisClient& redis, const PlanOptions& options);

// The queue lists that exist now (for --follow, which starts drainers for new ones).
absl::StatusOr<std::vector<Source>> DiscoverLists(RedisClient& redis, const KeyLayout& layout);

// Whether `queue` passes --queues.
bool QueueSelected(const std::vector<std::string>& filter, const std::string& queue);

}  // namespace nsq::redis_to_nsq
