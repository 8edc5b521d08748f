// Where Sidekiq and go-workers keep their jobs in Redis (../shared/REDIS-QUEUES.md, A1-A2), and
// where the migrator keeps its own bookkeeping, all under the same namespace prefix.
//
//   KeyLayout layout(Format::kSidekiq, "myapp");   // redis-namespace "myapp" -> "myapp:" keys
//   layout.Queue("default");                        // "myapp:queue:default"
//   layout.RetrySet();                              // "myapp:retry" (go-workers: "goretry")
//   std::optional<Source> s = layout.ClassifyList("myapp:queue:default:host1:inprogress");
//   // s->kind == SourceKind::kInProgress, s->queue == "default" (go-workers' in-progress list)
//
// Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nsq::redis_to_nsq {

enum class Format { kSidekiq, kGoWorkers };
std::string_view FormatName(Format format);

enum class SourceKind {
  kQueue,       // a queue's pending jobs (list)
  kInProgress,  // jobs a reliable fetcher took and had not acknowledged (list)
  kSchedule,    // future jobs (sorted set, score = run time)
  kRetry,       // failed jobs waiting to retry (sorted set, score = next try)
  kDead,        // Sidekiq's morgue (sorted set, score = time of death)
};

// One Redis key the migrator drains.
struct Source {
  SourceKind kind = SourceKind::kQueue;
  std::string key;    // the full key, namespace included
  std::string queue;  // lists: the queue the jobs belong to; sorted sets: empty (per member)

  bool is_list() const { return kind == SourceKind::kQueue || kind == SourceKind::kInProgress; }
  bool operator<(const Source& other) const { return key < other.key; }
};

class KeyLayout {
 public:
  // `ns` is the redis-namespace / go-workers namespace without the ':' (one is added; a
  // trailing ':' is accepted too). Empty: no prefix.
  KeyLayout(Format format, std::string_view ns);

  Format format() const { return format_; }
  const std::string& prefix() const { return prefix_; }

  std::string QueuesSet() const { return prefix_ + "queues"; }
  std::string Queue(std::string_view queue) const;
  std::string ScheduleSet() const { return prefix_ + "schedule"; }
  std::string RetrySet() const;
  // Sidekiq's morgue; go-workers has none (empty).
  std::string DeadSet() const;
  // Patterns for SCAN: queue lists, and gitlab-sidekiq-fetcher's working lists.
  std::string QueuePattern() const { return prefix_ + "queue:*"; }
  std::string WorkingPattern() const { return prefix_ + "working:queue:*"; }

  // What a list key is: a queue, an in-progress list (go-workers `queue:Q:<process>:inprogress`,
  // Sidekiq Pro super_fetch `queue:sq|<identity>|Q`, sidekiq-reliable-fetch `queue:Q:working`,
  // gitlab-sidekiq-fetcher `working:queue:Q:<identity>`), or nothing we drain (nullopt: another
  // prefix, or the migrator's own keys).
  std::optional<Source> ClassifyList(std::string_view key) const;

  // A go-workers retry member names its queue with the namespace in front ("prod:mail");
  // this strips it. Other queue names are returned unchanged.
  std::string MemberQueue(std::string_view queue) const;

  // The migrator's keys for the batch it took from `source_key` and has not acknowledged yet
  // (`id` is --id), and where jobs that cannot be published are kept.
  std::string Processing(std::string_view id, std::string_view source_key) const;
  std::string Quarantine(std::string_view source_key) const;
  // Held while a migrator with this id runs: two with one id would share processing keys.
  std::string Lock(std::string_view id) const;

 private:
  std::string_view Unprefixed(std::string_view key) const;

  Format format_;
  std::string prefix_;
};

}  // namespace nsq::redis_to_nsq
