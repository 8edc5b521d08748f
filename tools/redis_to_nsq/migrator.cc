#include "tools/redis_to_nsq/migrator.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_format.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "tools/redis_to_nsq/drain.h"
#include "tools/redis_to_nsq/job_payload.h"
#include "tools/redis_to_nsq/nsq_targets.h"
#include "tools/redis_to_nsq/plan.h"
#include "tools/redis_to_nsq/progress.h"
#include "tools/redis_to_nsq/rate_limiter.h"
#include "tools/redis_to_nsq/redis_session.h"
#include "tools/redis_to_nsq/run_state.h"
#include "tools/redis_to_nsq/scripts.h"

namespace nsq::redis_to_nsq {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitPartial = 3;

constexpr absl::Duration kLockTtl = absl::Seconds(15);
constexpr absl::Duration kLockRefresh = absl::Seconds(5);
constexpr absl::Duration kRediscoverEvery = absl::Seconds(5);

// Prints one line to stdout (the report and the topic map are the tool's output).
void Say(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "redis_to_nsq: %s\n", std::string(status.message()).c_str());
  return kExitFailed;
}

std::string Ago(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds);
  if (s < 0) return absl::StrFormat("in %s", Ago(-seconds));
  if (s < 120) return absl::StrFormat("%ds", s);
  if (s < 7200) return absl::StrFormat("%dm", s / 60);
  if (s < 172800) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd", s / 86400);
}

std::string Sample(std::string_view payload) {
  std::string out(payload.substr(0, 160));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (payload.size() > 160) out += absl::StrFormat("... (%d bytes)", payload.size());
  return out;
}

std::string KindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kQueue:
      return "queue";
    case SourceKind::kInProgress:
      return "in progress";
    case SourceKind::kSchedule:
      return "scheduled";
    case SourceKind::kRetry:
      return "retry";
    case SourceKind::kDead:
      return "dead";
  }
  return "";
}

// --dry-run: what the run would do, per source, from reads only.
absl::Status PrintDryRun(RedisClient& redis, const Plan& plan, const TopicMap& topics,
                         const Options& options) {
  DrainSettings limits;
  limits.max_msg_size = options.max_msg_size;
  limits.strict = options.strict;
  const double now = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  Say("");
  Say("dry run: nothing is changed");
  for (const SourcePlan& entry : plan.sources) {
    const Source& source = entry.source;
    std::string head = absl::StrFormat("%s (%s): %d %s", source.key, KindName(source.kind),
                                       entry.count, source.is_list() ? "jobs" : "entries");
    if (source.is_list() && entry.selected) {
      head += absl::StrFormat(" -> topic %s", topics.TopicFor(source.queue));
    }
    if (!entry.selected) {
      Say(head + absl::StrFormat("; skipped: %s", entry.skip_reason));
      continue;
    }
    // Oldest entry and two samples, from the end the migrator takes first.
    std::vector<std::string> samples;
    if (source.is_list()) {
      absl::StatusOr<RedisReply> oldest = redis.Command({"LRANGE", source.key, "-2", "-1"});
      if (!oldest.ok()) return oldest.status();
      for (auto it = oldest->elements.rbegin(); it != oldest->elements.rend(); ++it) {
        samples.push_back(it->str);
      }
      if (!samples.empty()) {
        if (std::optional<double> since = QueuedSince(InspectJob(samples.front()))) {
          head += absl::StrFormat(", oldest queued %s ago", Ago(now - *since));
        }
      }
    } else {
      absl::StatusOr<RedisReply> first =
          redis.Command({"ZRANGE", source.key, "0", "1", "WITHSCORES"});
      if (!first.ok()) return first.status();
      for (size_t i = 0; i + 1 < first->elements.size(); i += 2) {
        samples.push_back(first->elements[i].str);
      }
      if (first->elements.size() >= 2) {
        const double score = std::strtod(first->elements[1].str.c_str(), nullptr);
        head += score <= now ? absl::StrFormat(", earliest due %s ago", Ago(now - score))
                             : absl::StrFormat(", earliest due %s", Ago(now - score));
      }
      head += absl::StrFormat("; %d due within the horizon (%s), %d later stay in Redis",
                              entry.count - entry.beyond_horizon,
                              absl::FormatDuration(options.horizon), entry.beyond_horizon);
    }
    Say(head);
    for (const std::string& sample : samples) Say("    sample: " + Sample(sample));

    // Everything is read once, in pages, to count what would be quarantined.
    std::map<std::string, int64_t> refusals;
    for (int64_t start = 0; start < entry.count; start += 1000) {
      absl::StatusOr<RedisReply> page =
          source.is_list() ? redis.Command({"LRANGE", source.key, std::to_string(start),
                                            std::to_string(start + 999)})
                           : redis.Command({"ZRANGE", source.key, std::to_string(start),
                                            std::to_string(start + 999)});
      if (!page.ok()) return page.status();
      if (page->elements.empty()) break;
      for (const RedisReply& job : page->elements) {
        std::string why = RefusalOf(job.str, limits);
        if (why.empty() && !source.is_list()) {
          JobInfo info = InspectJob(job.str);
          if (!info.json_object || info.queue.empty()) why = "not a job's JSON with a \"queue\"";
        }
        if (!why.empty()) {
          // "N bytes, over ..." differs per job: count by its kind.
          const size_t comma = why.find(", over");
          ++refusals[comma == std::string::npos ? why : "over --max-msg-size"];
        }
      }
    }
    for (const auto& [why, count] : refusals) {
      Say(absl::StrFormat("    would quarantine %d: %s", count, why));
    }
  }
  return absl::OkStatus();
}

// The --id lock: "hostname pid". A lock whose process is gone on this host is stale (a
// kill -9 leaves it behind until it expires) and is taken over.
class IdLock {
 public:
  IdLock(RedisSession* redis, std::string key)
      : redis_(redis),
        key_(std::move(key)),
        value_(absl::StrFormat("%s %d", net::Hostname(), getpid())),
        refresh_(std::string(scripts::kRefreshLock)),
        release_(std::string(scripts::kReleaseLock)) {}

  absl::Status Acquire(const std::string& id) {
    const std::string ttl = std::to_string(absl::ToInt64Milliseconds(kLockTtl));
    for (int attempt = 0; attempt < 2; ++attempt) {
      absl::StatusOr<RedisReply> set =
          redis_->Call("taking the --id lock", {"SET", key_, value_, "NX", "PX", ttl});
      if (!set.ok()) return set.status();
      if (!set->is_nil()) return absl::OkStatus();
      absl::StatusOr<RedisReply> holder = redis_->Call("reading the --id lock", {"GET", key_});
      if (!holder.ok()) return holder.status();
      std::string host;
      int pid = 0;
      char host_buffer[256] = {0};
      if (std::sscanf(holder->str.c_str(), "%255s %d", host_buffer, &pid) == 2) host = host_buffer;
      const bool stale = host == net::Hostname() && pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
      if (!stale) {
        if (holder->is_nil()) continue;  // it just expired: try again
        return absl::FailedPreconditionError(absl::StrFormat(
            "another redis_to_nsq with --id %s is running (%s); two would share their "
            "processing keys: stop it, or give this one another --id",
            id, holder->str));
      }
      NSQ_LOG_WARN("taking over --id %s from %s, which is no longer running", id, holder->str);
      absl::StatusOr<RedisReply> taken =
          redis_->Call("taking the --id lock", {"SET", key_, value_, "PX", ttl});
      if (!taken.ok()) return taken.status();
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError("cannot take the --id lock");
  }

  void Refresh() {
    absl::StatusOr<RedisReply> refreshed = redis_->Run(
        "refreshing the --id lock", refresh_, {key_},
        {value_, std::to_string(absl::ToInt64Milliseconds(kLockTtl))});
    if (refreshed.ok() && refreshed->integer == 0) {
      NSQ_LOG_ERROR("lost the --id lock %s (Redis restarted or another migrator took it); "
                    "stopping", key_);
      RunState::RequestStop();
    }
  }

  void Release() { (void)redis_->Run("releasing the --id lock", release_, {key_}, {value_}); }

 private:
  RedisSession* redis_;
  std::string key_;
  std::string value_;
  RedisScript refresh_;
  RedisScript release_;
};

// The drain threads and what they report.
class Drainers {
 public:
  ~Drainers() { Join(); }

  void Start(std::function<absl::Status()> run) {
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, run = std::move(run)] {
      absl::Status status = run();
      if (!status.ok()) {
        NSQ_LOG_ERROR("%s", status.message());
        RunState::RequestStop();  // the others finish their batch and stop too
        std::lock_guard<std::mutex> lock(mu_);
        failures_.push_back(status);
      }
      ++finished_;
    });
  }
  bool AllFinished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_ == threads_.size();
  }
  void Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  bool failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return !failures_.empty();
  }

 private:
  std::mutex mu_;
  std::deque<std::thread> threads_;
  std::vector<absl::Status> failures_;
  std::atomic<size_t> finished_{0};
};

}  // namespace

int RunMigration(const Options& options) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(options.log_level, &level);
  log::Init("[redis_to_nsq] ", level);

  absl::StatusOr<std::unique_ptr<RedisClient>> connected =
      RedisClient::Connect(options.redis, kRedisConnectTimeout, kRedisCommandTimeout);
  if (!connected.ok()) return Fail(connected.status());
  RedisClient& redis = **connected;
  // What the server can do: Lua for every atomic move (2.6+, unless disabled), LMOVE/BLMOVE
  // (6.2+), else their older twins RPOPLPUSH/BRPOPLPUSH.
  auto has = [&](const std::string& command) {
    absl::StatusOr<bool> found = redis.HasCommand(command);
    return found.ok() && *found;
  };
  if (!has("EVALSHA") || !has("SCRIPT")) {
    return Fail(absl::FailedPreconditionError(absl::StrFormat(
        "Redis %s at %s has no Lua scripting (EVALSHA, SCRIPT: Redis 2.6+, not disabled), "
        "which every move relies on",
        redis.server_version(), options.redis.Describe())));
  }
  const bool use_lmove = has("LMOVE") && has("BLMOVE");
  if (!use_lmove) {
    if (!has("RPOPLPUSH") || !has("BRPOPLPUSH")) {
      return Fail(absl::FailedPreconditionError(absl::StrFormat(
          "Redis %s at %s has neither LMOVE/BLMOVE nor RPOPLPUSH/BRPOPLPUSH to move jobs with",
          redis.server_version(), options.redis.Describe())));
    }
    NSQ_LOG_WARN("Redis %s has no LMOVE/BLMOVE (6.2+): moving jobs with RPOPLPUSH/BRPOPLPUSH, "
                 "which do the same",
                 redis.server_version());
  }

  PlanOptions plan_options;
  plan_options.format = options.format;
  plan_options.ns = options.ns;
  plan_options.queues = options.queues;
  plan_options.include_scheduled = options.include_scheduled;
  plan_options.include_retry = options.include_retry;
  plan_options.include_dead = options.include_dead;
  plan_options.adopt_in_progress = options.adopt_in_progress;
  plan_options.horizon = options.horizon;
  absl::StatusOr<Plan> planned = MakePlan(redis, plan_options);
  if (!planned.ok()) {
    std::fprintf(stderr, "redis_to_nsq: %s\n", std::string(planned.status().message()).c_str());
    return absl::IsFailedPrecondition(planned.status()) ? kExitUsage : kExitFailed;
  }
  Plan& plan = *planned;

  absl::StatusOr<TopicMap> topic_map = TopicMap::Create(options.topics, options.merge);
  if (!topic_map.ok()) {
    std::fprintf(stderr, "redis_to_nsq: %s\n", std::string(topic_map.status().message()).c_str());
    return kExitUsage;
  }
  for (const std::string& queue : plan.queues) {
    if (absl::Status added = topic_map->Add(queue); !added.ok()) {
      std::fprintf(stderr, "redis_to_nsq: %s\n", std::string(added.message()).c_str());
      return kExitUsage;
    }
  }

  Say(absl::StrFormat("Redis %s at %s, format %s", redis.server_version(),
                      options.redis.Describe(), plan.detection));
  Say("topic map (queue -> topic):");
  for (const auto& [queue, topic] : topic_map->entries()) {
    Say(absl::StrFormat("  %s -> %s%s", queue, topic,
                        options.include_dead && plan.format == Format::kSidekiq
                            ? absl::StrFormat(" (dead jobs: %s)", TopicMap::DeadTopic(topic))
                            : ""));
  }
  if (topic_map->entries().empty()) Say("  (no queues)");
  for (const std::string& queue : topic_map->UnusedOverrides()) {
    NSQ_LOG_WARN("--topic names queue \"%s\", which has no jobs here", queue);
  }
  if (plan.live_sidekiq_processes > 0) {
    NSQ_LOG_WARN("%d Sidekiq processes are heartbeating in this Redis: jobs they run are not in "
                 "Redis, and they keep taking jobs from the queues",
                 plan.live_sidekiq_processes);
  }

  if (options.dry_run) {
    if (absl::Status printed = PrintDryRun(redis, plan, *topic_map, options); !printed.ok()) {
      return Fail(printed);
    }
    return kExitOk;
  }

  NsqTargets targets({options.nsqd_tcp_addresses, options.lookupd_http_addresses});
  if (absl::Status reachable = targets.CheckReachable(); !reachable.ok()) return Fail(reachable);

  RunState::Start();
  RedisSession control(options.redis);
  IdLock lock(&control, plan.layout.Lock(options.id));
  if (absl::Status locked = lock.Acquire(options.id); !locked.ok()) return Fail(locked);

  DrainSettings settings;
  settings.redis = options.redis;
  settings.layout = plan.layout;
  settings.id = options.id;
  settings.batch = options.batch;
  settings.max_msg_size = options.max_msg_size;
  settings.max_body_size = options.max_body_size;
  settings.strict = options.strict;
  settings.follow = options.follow;
  settings.use_lmove = use_lmove;
  settings.horizon = options.horizon;
  settings.max_req_timeout = options.max_req_timeout;
  settings.queue_filter = options.queues;
  LockedTopicMap topics(*topic_map);
  RateLimiter limiter(static_cast<double>(options.rate));

  const bool terminal = options.progress == "terminal" ||
                        (options.progress == "auto" && isatty(STDOUT_FILENO) == 1);
  Progress progress(options.redis, terminal);
  std::deque<SourceStats> stats;  // stable addresses for the threads and the display
  std::set<std::string> draining;  // queue names with a list drainer
  Drainers drainers;

  // One thread per queue (its in-progress lists, then the queue), one for the sorted sets.
  auto start_queue = [&](const std::string& queue, const std::vector<Source>& lists) {
    absl::StatusOr<std::string> topic = topics.TopicFor(queue);
    if (!topic.ok()) {
      NSQ_LOG_ERROR("queue %s is left in Redis: %s", queue, topic.status().message());
      return;
    }
    std::vector<SourceStats*> sources;
    for (const Source& source : lists) {
      stats.emplace_back(source, *topic);
      sources.push_back(&stats.back());
      progress.Add(&stats.back());
    }
    draining.insert(queue);
    auto drainer =
        std::make_shared<ListDrainer>(&settings, &targets, &limiter, *topic, std::move(sources));
    drainers.Start([drainer] { return drainer->Run(); });
  };
  std::map<std::string, std::vector<Source>> by_queue;
  std::vector<SourceStats*> sets;
  std::vector<const SourcePlan*> skipped;
  for (const SourcePlan& entry : plan.sources) {
    if (!entry.selected) {
      skipped.push_back(&entry);
    } else if (entry.source.is_list()) {
      by_queue[entry.source.queue].push_back(entry.source);
    } else {
      stats.emplace_back(entry.source, "");
      sets.push_back(&stats.back());
      progress.Add(&stats.back());
    }
  }
  for (const auto& [queue, lists] : by_queue) start_queue(queue, lists);
  if (!sets.empty()) {
    auto drainer = std::make_shared<SetDrainer>(&settings, &targets, &limiter, &topics, sets);
    drainers.Start([drainer] { return drainer->Run(); });
  }

  absl::Time last_refresh = absl::Now();
  absl::Time last_discovery = absl::Now();
  std::unique_ptr<RedisClient> discovery;
  // Without --follow the run ends when every source is drained; with it, at a stop request.
  while (!drainers.AllFinished() || (options.follow && !RunState::StopRequested())) {
    progress.Tick();
    // After a stop request SleepFor no longer waits; the drainers need a moment to finish.
    if (RunState::SleepFor(absl::FromChrono(progress.interval()))) {
      std::this_thread::sleep_for(progress.interval());
    }
    if (absl::Now() - last_refresh >= kLockRefresh) {
      lock.Refresh();
      last_refresh = absl::Now();
    }
    // --follow: queues that appear while the tool runs get a drainer too.
    if (options.follow && !RunState::StopRequested() &&
        absl::Now() - last_discovery >= kRediscoverEvery) {
      last_discovery = absl::Now();
      if (discovery == nullptr || discovery->broken()) {
        auto reconnected =
            RedisClient::Connect(options.redis, kRedisConnectTimeout, kRedisCommandTimeout);
        discovery = reconnected.ok() ? std::move(*reconnected) : nullptr;
      }
      if (discovery != nullptr) {
        absl::StatusOr<std::vector<Source>> lists = DiscoverLists(*discovery, plan.layout);
        std::map<std::string, std::vector<Source>> fresh;
        for (const Source& source : lists.ok() ? *lists : std::vector<Source>{}) {
          if (source.kind != SourceKind::kQueue || draining.contains(source.queue) ||
              !QueueSelected(options.queues, source.queue)) {
            continue;
          }
          fresh[source.queue].push_back(source);
        }
        for (const auto& [queue, lists_of_queue] : fresh) {
          NSQ_LOG_INFO("new queue %s: moving it too", queue);
          start_queue(queue, lists_of_queue);
        }
      }
    }
  }
  drainers.Join();
  progress.Finish();
  lock.Release();

  // What is left: quarantined jobs, entries beyond the horizon, jobs that arrived after a
  // source was emptied, or a stop before the end.
  int64_t quarantined = 0;
  int64_t republished = 0;
  int64_t left = 0;
  int64_t moved = 0;
  for (const SourceStats& s : stats) {
    quarantined += s.quarantined;
    republished += s.republished;
    left += std::max<int64_t>(s.remaining, 0);
    moved += s.moved;
  }
  Say("");
  Say(progress.Summary());
  Say(absl::StrFormat("moved %d jobs; %d quarantined; %d left in Redis; %d republished "
                      "(at most that many duplicates in NSQ, each with its jid)",
                      moved, quarantined, left, republished));
  for (const SourcePlan* entry : skipped) {
    Say(absl::StrFormat("not moved: %s (%d): %s", entry->source.key, entry->count,
                        entry->skip_reason));
  }
  if (drainers.failed()) return kExitFailed;
  if (quarantined > 0 || left > 0) return kExitPartial;
  return kExitOk;
}

}  // namespace nsq::redis_to_nsq
