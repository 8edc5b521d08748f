#include "tools/redis_to_nsq/plan.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"
#include "tools/redis_to_nsq/job_payload.h"

namespace nsq::redis_to_nsq {
namespace {

// Every key matching `pattern` (of type `type` when the server can filter by type: 6.0+).
absl::StatusOr<std::vector<std::string>> ScanKeys(RedisClient& redis, const std::string& pattern,
                                                  const std::string& type) {
  std::vector<std::string> keys;
  const bool server_filters = redis.AtLeast(6, 0);
  std::string cursor = "0";
  do {
    std::vector<std::string> argv = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    if (server_filters) argv.insert(argv.end(), {"TYPE", type});
    NSQ_ASSIGN_OR_RETURN(RedisReply reply, redis.Command(argv));
    if (reply.elements.size() != 2) return absl::DataLossError("unexpected SCAN reply");
    cursor = reply.elements[0].str;
    for (RedisReply& key : reply.elements[1].elements) {
      if (!server_filters) {
        NSQ_ASSIGN_OR_RETURN(RedisReply key_type, redis.Command({"TYPE", key.str}));
        if (key_type.str != type) continue;
      }
      keys.push_back(std::move(key.str));
    }
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

absl::StatusOr<bool> Exists(RedisClient& redis, const std::string& key) {
  NSQ_ASSIGN_OR_RETURN(RedisReply reply, redis.Command({"EXISTS", key}));
  return reply.integer > 0;
}

absl::StatusOr<int64_t> Integer(RedisClient& redis, const std::vector<std::string>& argv) {
  NSQ_ASSIGN_OR_RETURN(RedisReply reply, redis.Command(argv));
  return reply.integer;
}

}  // namespace

bool QueueSelected(const std::vector<std::string>& filter, const std::string& queue) {
  return filter.empty() || std::find(filter.begin(), filter.end(), queue) != filter.end();
}

absl::StatusOr<Format> DetectFormat(RedisClient& redis, const std::string& ns,
                                    std::string* evidence) {
  const KeyLayout sidekiq(Format::kSidekiq, ns);
  const KeyLayout go_workers(Format::kGoWorkers, ns);
  std::vector<std::string> sidekiq_signs;
  std::vector<std::string> go_signs;
  for (const std::string& key : {sidekiq.RetrySet(), sidekiq.DeadSet(),
                                 sidekiq.prefix() + "processes"}) {
    NSQ_ASSIGN_OR_RETURN(bool exists, Exists(redis, key));
    if (exists) sidekiq_signs.push_back(key);
  }
  NSQ_ASSIGN_OR_RETURN(bool goretry, Exists(redis, go_workers.RetrySet()));
  if (goretry) go_signs.push_back(go_workers.RetrySet());

  NSQ_ASSIGN_OR_RETURN(std::vector<std::string> lists,
                       ScanKeys(redis, sidekiq.QueuePattern(), "list"));
  for (const std::string& key : lists) {
    std::optional<Source> source = go_workers.ClassifyList(key);
    if (!source) continue;
    if (source->kind == SourceKind::kInProgress &&
        key.size() > 11 && key.compare(key.size() - 11, 11, ":inprogress") == 0) {
      go_signs.push_back(key);
      continue;
    }
    if (source->kind != SourceKind::kQueue) continue;
    // A job's own fields: Sidekiq writes created_at, go-workers writes "at" and no created_at.
    NSQ_ASSIGN_OR_RETURN(RedisReply oldest, redis.Command({"LINDEX", key, "-1"}));
    if (oldest.is_nil()) continue;
    JobInfo job = InspectJob(oldest.str);
    if (job.created_at) {
      sidekiq_signs.push_back(absl::StrFormat("created_at in %s", key));
    } else if (job.at) {
      go_signs.push_back(absl::StrFormat("\"at\" without created_at in %s", key));
    }
  }

  auto summary = [](const std::vector<std::string>& signs) {
    std::vector<std::string> shown(signs.begin(), signs.begin() + std::min<size_t>(3, signs.size()));
    return absl::StrJoin(shown, ", ") + (signs.size() > 3 ? ", ..." : "");
  };
  if (!sidekiq_signs.empty() && !go_signs.empty()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "Redis holds both Sidekiq keys (%s) and go-workers keys (%s); say which with --format",
        summary(sidekiq_signs), summary(go_signs)));
  }
  if (!go_signs.empty()) {
    *evidence = absl::StrFormat("go-workers (found %s)", summary(go_signs));
    return Format::kGoWorkers;
  }
  if (!sidekiq_signs.empty()) {
    *evidence = absl::StrFormat("sidekiq (found %s)", summary(sidekiq_signs));
    return Format::kSidekiq;
  }
  *evidence = lists.empty() ? "sidekiq (nothing found: no queue lists under this namespace and db)"
                            : "sidekiq (no telltale keys; both keep queues the same way)";
  return Format::kSidekiq;
}

absl::StatusOr<std::vector<Source>> DiscoverLists(RedisClient& redis, const KeyLayout& layout) {
  std::map<std::string, Source> found;
  NSQ_ASSIGN_OR_RETURN(RedisReply members, redis.Command({"SMEMBERS", layout.QueuesSet()}));
  for (const RedisReply& member : members.elements) {
    // A queue in the set may have no list right now (drained, or not yet pushed to).
    Source source{SourceKind::kQueue, layout.Queue(member.str), member.str};
    found.emplace(source.key, source);
  }
  for (const std::string& pattern : {layout.QueuePattern(), layout.WorkingPattern()}) {
    NSQ_ASSIGN_OR_RETURN(std::vector<std::string> keys, ScanKeys(redis, pattern, "list"));
    for (const std::string& key : keys) {
      std::optional<Source> source = layout.ClassifyList(key);
      if (source) found.emplace(key, *source);
    }
  }
  std::vector<Source> lists;
  for (auto& [key, source] : found) lists.push_back(std::move(source));
  // Per queue: its in-progress lists first (their jobs were taken first), then the queue.
  std::stable_sort(lists.begin(), lists.end(), [](const Source& a, const Source& b) {
    if (a.queue != b.queue) return a.queue < b.queue;
    return a.kind == SourceKind::kInProgress && b.kind != SourceKind::kInProgress;
  });
  return lists;
}

absl::StatusOr<Plan> MakePlan(RedisClient& redis, const PlanOptions& options) {
  Plan plan;
  if (options.format) {
    plan.format = *options.format;
    plan.detection = absl::StrFormat("%s (--format)", FormatName(plan.format));
  } else {
    NSQ_ASSIGN_OR_RETURN(plan.format, DetectFormat(redis, options.ns, &plan.detection));
  }
  plan.layout = KeyLayout(plan.format, options.ns);
  const KeyLayout& layout = plan.layout;
  if (plan.format == Format::kSidekiq) {
    NSQ_ASSIGN_OR_RETURN(plan.live_sidekiq_processes,
                         Integer(redis, {"SCARD", layout.prefix() + "processes"}));
  }

  NSQ_ASSIGN_OR_RETURN(std::vector<Source> lists, DiscoverLists(redis, layout));
  // A queue named in --queues is drained even if it has no jobs yet (--follow waits for them).
  for (const std::string& queue : options.queues) {
    const std::string key = layout.Queue(queue);
    if (std::none_of(lists.begin(), lists.end(), [&](const Source& s) { return s.key == key; })) {
      lists.push_back(Source{SourceKind::kQueue, key, queue});
    }
  }
  for (Source& source : lists) {
    SourcePlan entry;
    entry.source = std::move(source);
    NSQ_ASSIGN_OR_RETURN(entry.count, Integer(redis, {"LLEN", entry.source.key}));
    if (!QueueSelected(options.queues, entry.source.queue)) {
      entry.skip_reason = "not in --queues";
    } else if (entry.source.kind == SourceKind::kInProgress && !options.adopt_in_progress) {
      entry.skip_reason =
          "in progress (a worker took these): --adopt-in-progress once its workers are stopped";
    } else {
      entry.selected = true;
      plan.queues.insert(entry.source.queue);
    }
    plan.sources.push_back(std::move(entry));
  }

  const double horizon_end = absl::ToDoubleSeconds(absl::Now() + options.horizon - absl::UnixEpoch());
  struct SetChoice {
    SourceKind kind;
    std::string key;
    bool wanted;
    const char* flag;
  };
  std::vector<SetChoice> sets = {
      {SourceKind::kSchedule, layout.ScheduleSet(), options.include_scheduled,
       "--include-scheduled"},
      {SourceKind::kRetry, layout.RetrySet(), options.include_retry, "--include-retry"},
  };
  if (!layout.DeadSet().empty()) {
    sets.push_back({SourceKind::kDead, layout.DeadSet(), options.include_dead, "--include-dead"});
  }
  for (const SetChoice& set : sets) {
    SourcePlan entry;
    entry.source = Source{set.kind, set.key, ""};
    NSQ_ASSIGN_OR_RETURN(entry.count, Integer(redis, {"ZCARD", set.key}));
    NSQ_ASSIGN_OR_RETURN(entry.beyond_horizon,
                         Integer(redis, {"ZCOUNT", set.key, absl::StrFormat("(%.6f", horizon_end),
                                         "+inf"}));
    if (!set.wanted) {
      entry.skip_reason = absl::StrFormat("not selected (%s)", set.flag);
    } else {
      entry.selected = true;
      // The queues its members name, so the topic map is complete before anything moves.
      std::string cursor = "0";
      do {
        NSQ_ASSIGN_OR_RETURN(RedisReply page,
                             redis.Command({"ZSCAN", set.key, cursor, "COUNT", "1000"}));
        if (page.elements.size() != 2) return absl::DataLossError("unexpected ZSCAN reply");
        cursor = page.elements[0].str;
        const std::vector<RedisReply>& items = page.elements[1].elements;
        for (size_t i = 0; i < items.size(); i += 2) {
          const std::string queue = layout.MemberQueue(InspectJob(items[i].str).queue);
          if (!queue.empty() && QueueSelected(options.queues, queue)) plan.queues.insert(queue);
        }
      } while (cursor != "0");
    }
    plan.sources.push_back(std::move(entry));
  }
  return plan;
}

}  // namespace nsq::redis_to_nsq
