#include "tools/redis_to_nsq/drain.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/log/logger.h"
#include "common/util/status_macros.h"
#include "tools/redis_to_nsq/job_payload.h"
#include "tools/redis_to_nsq/run_state.h"
#include "tools/redis_to_nsq/scripts.h"

namespace nsq::redis_to_nsq {
namespace {

// MPUB's body: a 4-byte count, then a 4-byte size before each message.
constexpr int64_t kMpubHeader = 4;
constexpr int64_t kMpubPerMessage = 4;

// A short, printable name for a job in log lines: its jid, else its first bytes.
std::string Describe(std::string_view payload) {
  JobInfo job = InspectJob(payload);
  if (!job.jid.empty()) return absl::StrFormat("jid %s", job.jid);
  std::string head(payload.substr(0, 40));
  for (char& c : head) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '.';
  }
  return absl::StrFormat("\"%s%s\" (%d bytes)", head, payload.size() > 40 ? "..." : "",
                         payload.size());
}

// Splits `bodies` into MPUB bodies of at most `max_body_size` bytes, keeping their order;
// calls `publish` with each and stops at its first error.
absl::Status ForEachChunk(std::vector<std::string>& bodies, int64_t max_body_size,
                          const std::function<absl::Status(std::vector<std::string>&)>& publish) {
  std::vector<std::string> chunk;
  int64_t bytes = kMpubHeader;
  for (std::string& body : bodies) {
    const int64_t size = kMpubPerMessage + static_cast<int64_t>(body.size());
    if (!chunk.empty() && bytes + size > max_body_size) {
      NSQ_RETURN_IF_ERROR(publish(chunk));
      chunk.clear();
      bytes = kMpubHeader;
    }
    chunk.push_back(std::move(body));
    bytes += size;
  }
  if (chunk.empty()) return absl::OkStatus();
  return publish(chunk);
}

}  // namespace

absl::StatusOr<std::string> LockedTopicMap::TopicFor(const std::string& queue) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string topic = map_.TopicFor(queue);
  if (!topic.empty()) return topic;
  NSQ_RETURN_IF_ERROR(map_.Add(queue));
  topic = map_.TopicFor(queue);
  NSQ_LOG_INFO("new queue %s -> topic %s", queue, topic);
  return topic;
}

TopicMap LockedTopicMap::Snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return map_;
}

std::string RefusalOf(std::string_view payload, const DrainSettings& settings) {
  if (payload.empty()) return "empty (NSQ has no empty messages)";
  if (static_cast<int64_t>(payload.size()) > settings.max_msg_size) {
    return absl::StrFormat("%d bytes, over nsqd's --max-msg-size of %d", payload.size(),
                           settings.max_msg_size);
  }
  if (settings.strict && !InspectJob(payload).json_object) return "not a JSON object (--strict)";
  return "";
}

// --- lists -----------------------------------------------------------------------------------

ListDrainer::ListDrainer(const DrainSettings* settings, NsqTargets* targets, RateLimiter* limiter,
                         std::string topic, std::vector<SourceStats*> sources)
    : settings_(*settings),
      targets_(targets),
      limiter_(limiter),
      topic_(std::move(topic)),
      sources_(std::move(sources)),
      redis_(settings->redis),
      claim_(std::string(scripts::kClaimList)) {}

absl::Status ListDrainer::Run() {
  for (SourceStats* stats : sources_) {
    absl::Status drained = DrainList(*stats);
    stats->finished = true;
    if (!drained.ok()) {
      for (SourceStats* other : sources_) other->finished = true;
      return absl::Status(drained.code(),
                          absl::StrFormat("%s: %s", stats->source.key, drained.message()));
    }
    if (RunState::StopRequested()) break;
  }
  return absl::OkStatus();
}

absl::Status ListDrainer::DrainList(SourceStats& stats) {
  const std::string& source = stats.source.key;
  const std::string processing = settings_.layout.Processing(settings_.id, source);
  const std::string quarantine = settings_.layout.Quarantine(source);
  const std::string claiming = absl::StrFormat("claiming jobs from %s", source);

  NSQ_ASSIGN_OR_RETURN(RedisReply leftover, redis_.Call(claiming, {"LLEN", processing}));
  if (leftover.integer > 0) {
    NSQ_LOG_WARN("%s: %d jobs of an earlier run with --id %s were not acknowledged; publishing "
                 "them first (nsqd may have them already)",
                 source, leftover.integer, settings_.id);
    stats.republished += leftover.integer;
  }

  const std::string move = settings_.use_lmove ? "LMOVE" : "RPOPLPUSH";
  const std::vector<std::string> wait =
      settings_.use_lmove
          ? std::vector<std::string>{"BLMOVE", source, processing, "RIGHT", "LEFT", "1"}
          : std::vector<std::string>{"BRPOPLPUSH", source, processing, "1"};
  while (!RunState::StopRequested()) {
    NSQ_ASSIGN_OR_RETURN(
        RedisReply claimed,
        redis_.Run(claiming, claim_, {source, processing},
                   {std::to_string(settings_.batch), std::to_string(settings_.batch_bytes), move}));
    if (claimed.elements.empty()) {
      if (!settings_.follow || stats.source.kind == SourceKind::kInProgress) break;
      // Waits in Redis for the next job (a second at most, so a stop is noticed); the claim
      // then returns it with whatever came meanwhile.
      NSQ_RETURN_IF_ERROR(redis_.Call(claiming, wait).status());
      continue;
    }
    // The processing list was filled at its left: its right end is the oldest job.
    std::vector<std::string> jobs;
    jobs.reserve(claimed.elements.size());
    for (auto it = claimed.elements.rbegin(); it != claimed.elements.rend(); ++it) {
      jobs.push_back(std::move(it->str));
    }
    // A stop while waiting for the rate limit still publishes this batch: it is claimed.
    limiter_->Acquire(static_cast<int64_t>(jobs.size()));
    NSQ_RETURN_IF_ERROR(PublishBatch(stats, jobs, processing, quarantine));
  }
  return absl::OkStatus();
}

absl::Status ListDrainer::PublishBatch(SourceStats& stats, std::vector<std::string>& jobs,
                                       const std::string& processing,
                                       const std::string& quarantine) {
  // Jobs go out in order; one that cannot be published is quarantined where it stands, so
  // everything before it is published and acknowledged first (the processing list's right end
  // is then exactly that job).
  std::vector<std::string> run;
  for (std::string& job : jobs) {
    const std::string why = RefusalOf(job, settings_);
    if (why.empty()) {
      run.push_back(std::move(job));
      continue;
    }
    NSQ_RETURN_IF_ERROR(ForEachChunk(run, settings_.max_body_size, [&](auto& chunk) {
      return PublishChunk(stats, chunk, processing, quarantine);
    }));
    run.clear();
    NSQ_RETURN_IF_ERROR(QuarantineOldest(stats, processing, quarantine, Describe(job) + ": " + why));
  }
  return ForEachChunk(run, settings_.max_body_size, [&](auto& chunk) {
    return PublishChunk(stats, chunk, processing, quarantine);
  });
}

absl::Status ListDrainer::PublishChunk(SourceStats& stats, std::vector<std::string>& chunk,
                                       const std::string& processing,
                                       const std::string& quarantine) {
  const std::string publishing = absl::StrFormat("publishing to topic %s", topic_);
  int attempts = 0;
  absl::Status published = Retrying(publishing, [&] {
    ++attempts;
    return targets_->MultiPublish(topic_, chunk);
  });
  // An attempt that failed may still have reached nsqd (its OK lost on the way back).
  if (attempts > 1) stats.republished += static_cast<int64_t>(chunk.size());
  if (published.ok()) {
    NSQ_RETURN_IF_ERROR(Acknowledge(processing, chunk.size()));
    stats.moved += static_cast<int64_t>(chunk.size());
    return absl::OkStatus();
  }
  if (!absl::IsInvalidArgument(published)) return published;

  // nsqd refused the MPUB's content (a job over its --max-msg-size, a body over its
  // --max-body-size, when they are smaller than ours): one at a time, so that only the jobs it
  // refuses are quarantined.
  NSQ_LOG_WARN("%s: nsqd refused an MPUB (%s); publishing its %d jobs one by one",
               stats.source.key, published.message(), chunk.size());
  for (const std::string& job : chunk) {
    absl::Status one = Retrying(publishing, [&] { return targets_->Publish(topic_, job); });
    if (one.ok()) {
      NSQ_RETURN_IF_ERROR(Acknowledge(processing, 1));
      ++stats.moved;
    } else if (absl::IsInvalidArgument(one)) {
      NSQ_RETURN_IF_ERROR(QuarantineOldest(stats, processing, quarantine,
                                           absl::StrFormat("%s: %s", Describe(job), one.message())));
    } else {
      return one;
    }
  }
  return absl::OkStatus();
}

absl::Status ListDrainer::Acknowledge(const std::string& processing, size_t count) {
  // Only this migrator writes to its processing list and it takes from the right end: the
  // `count` rightmost jobs are the ones nsqd just acknowledged.
  return redis_
      .Call(absl::StrFormat("acknowledging in %s", processing),
            {"LTRIM", processing, "0", std::to_string(-static_cast<int64_t>(count) - 1)})
      .status();
}

absl::Status ListDrainer::QuarantineOldest(SourceStats& stats, const std::string& processing,
                                           const std::string& quarantine, std::string_view why) {
  const std::vector<std::string> move =
      settings_.use_lmove
          ? std::vector<std::string>{"LMOVE", processing, quarantine, "RIGHT", "LEFT"}
          : std::vector<std::string>{"RPOPLPUSH", processing, quarantine};
  NSQ_RETURN_IF_ERROR(redis_.Call(absl::StrFormat("quarantining in %s", quarantine), move).status());
  ++stats.quarantined;
  NSQ_LOG_WARN("%s: %s; kept in %s", stats.source.key, why, quarantine);
  return absl::OkStatus();
}

// --- sorted sets ----------------------------------------------------------------------------

SetDrainer::SetDrainer(const DrainSettings* settings, NsqTargets* targets, RateLimiter* limiter,
                       LockedTopicMap* topics, std::vector<SourceStats*> sources)
    : settings_(*settings),
      targets_(targets),
      limiter_(limiter),
      topics_(topics),
      sources_(std::move(sources)),
      redis_(settings->redis),
      claim_(std::string(scripts::kClaimSet)),
      quarantine_(std::string(scripts::kQuarantineMember)),
      put_back_(std::string(scripts::kPutBackMember)) {}

absl::Status SetDrainer::Run() {
  for (SourceStats* stats : sources_) {
    const std::string processing = settings_.layout.Processing(settings_.id, stats->source.key);
    NSQ_ASSIGN_OR_RETURN(RedisReply leftover,
                         redis_.Call(absl::StrFormat("reading %s", processing),
                                     {"ZCARD", processing}));
    if (leftover.integer > 0) {
      NSQ_LOG_WARN("%s: %d entries of an earlier run with --id %s were not acknowledged; "
                   "publishing them first (nsqd may have them already)",
                   stats->source.key, leftover.integer, settings_.id);
      stats->republished += leftover.integer;
    }
  }
  absl::Status result;
  while (result.ok()) {
    for (SourceStats* stats : sources_) {
      result = DrainOnce(*stats);
      if (!result.ok()) {
        result = absl::Status(result.code(),
                              absl::StrFormat("%s: %s", stats->source.key, result.message()));
        break;
      }
      if (RunState::StopRequested()) break;
    }
    // --follow: entries come within the horizon as time passes, and new ones arrive.
    if (!settings_.follow || RunState::SleepFor(absl::Seconds(1))) break;
  }
  for (SourceStats* stats : sources_) stats->finished = true;
  return result;
}

absl::Status SetDrainer::DrainOnce(SourceStats& stats) {
  const std::string& source = stats.source.key;
  const std::string processing = settings_.layout.Processing(settings_.id, source);
  const std::string claiming = absl::StrFormat("claiming entries from %s", source);
  const std::string filter = absl::StrJoin(settings_.queue_filter, "\n");
  // go-workers writes its namespace into the "queue" of retry entries.
  const std::string member_prefix =
      stats.source.kind == SourceKind::kRetry ? settings_.layout.prefix() : "";
  const int64_t max_delay_ms = absl::ToInt64Milliseconds(settings_.max_req_timeout);

  while (!RunState::StopRequested()) {
    const std::string limit =
        absl::StrFormat("%.6f", absl::ToDoubleSeconds(absl::Now() + settings_.horizon -
                                                      absl::UnixEpoch()));
    NSQ_ASSIGN_OR_RETURN(
        RedisReply claimed,
        redis_.Run(claiming, claim_, {source, processing},
                   {limit, std::to_string(settings_.batch), std::to_string(settings_.batch_bytes),
                    filter, member_prefix}));
    if (claimed.elements.empty()) return absl::OkStatus();
    limiter_->Acquire(static_cast<int64_t>(claimed.elements.size() / 2));

    // Due entries per topic in score order (MPUB), later ones with their delay (DPUB).
    std::map<std::string, std::vector<std::string>> due;
    std::map<std::string, std::vector<NsqTargets::Deferred>> later;
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (size_t i = 0; i + 1 < claimed.elements.size(); i += 2) {
      std::string& member = claimed.elements[i].str;
      const std::string& score = claimed.elements[i + 1].str;
      JobInfo job = InspectJob(member);
      const std::string queue = settings_.layout.MemberQueue(job.queue);
      if (!job.json_object || queue.empty()) {
        NSQ_RETURN_IF_ERROR(Quarantine(stats, processing, member,
                                       "not a job's JSON with a \"queue\": no topic to move it to"));
        continue;
      }
      if (const std::string why = RefusalOf(member, settings_); !why.empty()) {
        NSQ_RETURN_IF_ERROR(Quarantine(stats, processing, member, why));
        continue;
      }
      absl::StatusOr<std::string> topic = topics_->TopicFor(queue);
      if (!topic.ok()) {
        NSQ_RETURN_IF_ERROR(
            Quarantine(stats, processing, member, std::string(topic.status().message())));
        continue;
      }
      const std::string destination =
          stats.source.kind == SourceKind::kDead ? TopicMap::DeadTopic(*topic) : *topic;
      const int64_t due_ms = std::llround(std::strtod(score.c_str(), nullptr) * 1000.0);
      const int64_t delay_ms = due_ms - now_ms;
      if (delay_ms > max_delay_ms) {
        NSQ_RETURN_IF_ERROR(PutBack(stats, processing, member, score));
      } else if (delay_ms <= 0) {
        due[destination].push_back(std::move(member));
      } else {
        later[destination].emplace_back(std::move(member), std::chrono::milliseconds(delay_ms));
      }
    }

    for (auto& [topic, bodies] : due) {
      const std::string publishing = absl::StrFormat("publishing to topic %s", topic);
      NSQ_RETURN_IF_ERROR(ForEachChunk(bodies, settings_.max_body_size, [&](auto& chunk) {
        int attempts = 0;
        absl::Status published = Retrying(publishing, [&] {
          ++attempts;
          return targets_->MultiPublish(topic, chunk);
        });
        if (attempts > 1) stats.republished += static_cast<int64_t>(chunk.size());
        if (published.ok()) {
          NSQ_RETURN_IF_ERROR(Acknowledge(processing, chunk));
          stats.moved += static_cast<int64_t>(chunk.size());
          return absl::OkStatus();
        }
        if (!absl::IsInvalidArgument(published)) return published;
        for (const std::string& body : chunk) {
          absl::Status one = Retrying(publishing, [&] { return targets_->Publish(topic, body); });
          if (one.ok()) {
            NSQ_RETURN_IF_ERROR(Acknowledge(processing, {body}));
            ++stats.moved;
          } else if (absl::IsInvalidArgument(one)) {
            NSQ_RETURN_IF_ERROR(Quarantine(stats, processing, body, std::string(one.message())));
          } else {
            return one;
          }
        }
        return absl::OkStatus();
      }));
    }

    for (auto& [topic, items] : later) {
      const std::string publishing = absl::StrFormat("deferred publishing to topic %s", topic);
      std::vector<NsqTargets::Deferred> pending = std::move(items);
      int attempts = 0;
      absl::Status finished = Retrying(publishing, [&] {
        if (++attempts > 1) stats.republished += static_cast<int64_t>(pending.size());
        std::vector<absl::Status> results = targets_->DeferredPublish(topic, pending);
        std::vector<std::string> acknowledged;
        std::vector<NsqTargets::Deferred> retry;
        absl::Status transient;
        for (size_t k = 0; k < pending.size(); ++k) {
          if (results[k].ok()) {
            acknowledged.push_back(pending[k].first);
          } else if (IsTransient(results[k])) {
            retry.push_back(std::move(pending[k]));
            transient = results[k];
          } else {
            absl::Status kept = Quarantine(stats, processing, pending[k].first,
                                           std::string(results[k].message()));
            if (!kept.ok()) return kept;
          }
        }
        if (!acknowledged.empty()) {
          if (absl::Status acked = Acknowledge(processing, acknowledged); !acked.ok()) return acked;
          stats.moved += static_cast<int64_t>(acknowledged.size());
        }
        pending = std::move(retry);
        return transient;
      });
      NSQ_RETURN_IF_ERROR(finished);
    }
  }
  return absl::OkStatus();
}

absl::Status SetDrainer::Acknowledge(const std::string& processing,
                                     const std::vector<std::string>& members) {
  std::vector<std::string> argv = {"ZREM", processing};
  argv.insert(argv.end(), members.begin(), members.end());
  return redis_.Call(absl::StrFormat("acknowledging in %s", processing), argv).status();
}

absl::Status SetDrainer::Quarantine(SourceStats& stats, const std::string& processing,
                                    const std::string& member, std::string_view why) {
  const std::string quarantine = settings_.layout.Quarantine(stats.source.key);
  NSQ_RETURN_IF_ERROR(redis_
                          .Run(absl::StrFormat("quarantining in %s", quarantine), quarantine_,
                               {processing, quarantine}, {member})
                          .status());
  ++stats.quarantined;
  NSQ_LOG_WARN("%s: %s: %s; kept in %s", stats.source.key, Describe(member), why, quarantine);
  return absl::OkStatus();
}

absl::Status SetDrainer::PutBack(SourceStats& stats, const std::string& processing,
                                 const std::string& member, const std::string& score) {
  return redis_
      .Run(absl::StrFormat("returning an entry to %s", stats.source.key), put_back_,
           {processing, stats.source.key}, {member, score})
      .status();
}

}  // namespace nsq::redis_to_nsq
