#include "tests/testutil/go_workers_fixture.h"

#include <time.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nsq::testutil {
namespace {

// Elements per RPUSH/LPUSH/ZADD: one command per job, as go-workers sends, would make 100k-job
// fixtures slow; the resulting keys are the same.
constexpr int kElementsPerCommand = 1000;

std::string Prefix(std::string_view ns) {
  return ns.empty() ? "" : absl::StrCat(std::string(ns), ":");
}

absl::Status CheckArguments(std::string_view ns, std::string_view queue, int count) {
  if (!ns.empty() && ns.back() == ':') {
    return absl::InvalidArgumentError(absl::StrCat(
        "namespace \"", std::string(ns), "\": pass it without the ':' (go-workers adds it)"));
  }
  if (queue.empty()) return absl::InvalidArgumentError("empty queue name");
  if (count < 0) return absl::InvalidArgumentError("negative count");
  return absl::OkStatus();
}

absl::Status CheckJson(std::string_view json, std::string_view what) {
  boost::system::error_code error;
  boost::json::parse(json, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(what), " is not valid JSON (",
                                                   error.message(), "): ", std::string(json)));
  }
  return absl::OkStatus();
}

// generateJid(): 12 random bytes as 24 lowercase hex digits (fmt.Sprintf("%x", b)).
std::string GenerateJid() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string jid;
  for (int i = 0; i < 12; ++i) {
    const unsigned byte = static_cast<unsigned>(random() & 0xff);
    jid.push_back(kHex[byte >> 4]);
    jid.push_back(kHex[byte & 0xf]);
  }
  return jid;
}

// time.Now().UTC().Format("2006-01-02 15:04:05 MST") → "2026-12-04 18:53:13 UTC".
std::string GoUtcTime() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc;
  gmtime_r(&now.tv_sec, &utc);
  char text[64];
  strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

// One enqueued job: the EnqueueData struct marshalled by encoding/json, fields in declaration
// order, omitempty ones (queue, retry_count, retry, at) left out when zero.
struct EnqueuedJob {
  std::string queue;
  std::string job_class;
  std::string args_json;
  std::string jid;
  double enqueued_at = 0;
  bool retry = false;
  double at = 0;

  std::string Payload() const {
    std::string out = "{";
    if (!queue.empty()) absl::StrAppend(&out, "\"queue\":", GoJsonString(queue), ",");
    absl::StrAppend(&out, "\"class\":", GoJsonString(job_class), ",\"args\":", args_json,
                    ",\"jid\":\"", jid, "\",\"enqueued_at\":", GoJsonFloat(enqueued_at));
    if (retry) absl::StrAppend(&out, ",\"retry\":true");
    if (at != 0) absl::StrAppend(&out, ",\"at\":", GoJsonFloat(at));
    out.push_back('}');
    return out;
  }
};

// What Enqueue(queue, class, args) builds: "at" is taken first (EnqueueOptions{At: now}), then
// EnqueueWithOptions reads the clock again for enqueued_at.
EnqueuedJob NewJob(std::string_view queue, std::string_view job_class, std::string_view args_json,
                   bool retry, std::optional<double> at) {
  EnqueuedJob job;
  job.queue = std::string(queue);
  job.job_class = std::string(job_class);
  job.args_json = std::string(args_json);
  job.jid = GenerateJid();
  job.retry = retry;
  job.at = at.has_value() ? *at : GoWorkersNow();
  job.enqueued_at = GoWorkersNow();
  return job;
}

// Sends `command` + `elements`, in slices of kElementsPerCommand, and checks that every reply
// is an integer (the count RPUSH/LPUSH/ZADD return).
absl::Status WriteElements(TestRedis& redis, const std::vector<std::string>& command,
                           const std::vector<std::string>& elements, int db) {
  std::vector<std::vector<std::string>> commands;
  for (size_t first = 0; first < elements.size(); first += kElementsPerCommand) {
    std::vector<std::string> argv = command;
    const size_t last = std::min(elements.size(), first + kElementsPerCommand);
    argv.insert(argv.end(), elements.begin() + first, elements.begin() + last);
    commands.push_back(std::move(argv));
  }
  if (commands.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<RedisValue>> replies = redis.Pipeline(commands, db);
  if (!replies.ok()) {
    // Redis's error text ("WRONGTYPE ...") does not say which key it was about.
    return absl::Status(
        replies.status().code(),
        absl::StrCat(command[0], " ", command[1], " failed: ", replies.status().message()));
  }
  for (const RedisValue& reply : *replies) {
    if (reply.type != RedisValue::Type::kInteger) {
      return absl::InternalError(
          absl::StrCat(command[0], " ", command[1], " failed: ", reply.ToString()));
    }
  }
  return absl::OkStatus();
}

// ZADD key score member ... for members that all have `score`; returns them in the order the
// go-workers poller takes them (equal scores: by member bytes, as Redis orders them).
absl::StatusOr<std::vector<std::string>> AddToSortedSet(TestRedis& redis, const std::string& key,
                                                        double score,
                                                        std::vector<std::string> members, int db) {
  std::vector<std::string> pairs;
  const std::string score_text = GoJsonFloat(score);
  for (const std::string& member : members) {
    pairs.push_back(score_text);
    pairs.push_back(member);
  }
  absl::Status status = WriteElements(redis, {"ZADD", key}, pairs, db);
  if (!status.ok()) return status;
  std::sort(members.begin(), members.end());
  return members;
}

}  // namespace

double GoWorkersNow() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  int64_t nanos = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  double seconds = static_cast<double>(nanos) / 1000000000.0;
  // A whole second would print without a fraction ("1796410392"); tests rely on floats. (A
  // double holds these to ~0.2 us, so the nudge is a microsecond.)
  while (seconds == std::floor(seconds)) {
    nanos += 1000;
    seconds = static_cast<double>(nanos) / 1000000000.0;
  }
  return seconds;
}

std::string GoJsonFloat(double value) {
  // encoding/json: strconv.AppendFloat(f, 'f', -1, 64), or 'e' outside [1e-6, 1e21) with the
  // exponent's leading zero dropped (e-07 → e-7).
  const double magnitude = std::fabs(value);
  const bool exponent = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  char buffer[64];
  auto [end, error] =
      std::to_chars(buffer, buffer + sizeof(buffer), value,
                    exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::string out(buffer, end);
  const size_t n = out.size();
  if (exponent && n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
    out.erase(n - 2, 1);
  }
  return out;
}

std::string GoJsonString(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      switch (b) {
        case '"':
        case '\\':
          out.push_back('\\');
          out.push_back(static_cast<char>(b));
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            out.append("\\u00");
            out.push_back(kHex[b >> 4]);
            out.push_back(kHex[b & 0xf]);
          } else {
            out.push_back(static_cast<char>(b));
          }
      }
      ++i;
      continue;
    }
    // utf8.DecodeRuneInString: the length of a valid sequence, or 0 (→ U+FFFD, one byte).
    auto continuation = [&](size_t at, unsigned char low, unsigned char high) {
      if (at >= text.size()) return false;
      const unsigned char c = static_cast<unsigned char>(text[at]);
      return c >= low && c <= high;
    };
    size_t size = 0;
    if (b >= 0xc2 && b <= 0xdf) {
      size = continuation(i + 1, 0x80, 0xbf) ? 2 : 0;
    } else if (b >= 0xe0 && b <= 0xef) {
      const unsigned char low = b == 0xe0 ? 0xa0 : 0x80;
      const unsigned char high = b == 0xed ? 0x9f : 0xbf;
      size = continuation(i + 1, low, high) && continuation(i + 2, 0x80, 0xbf) ? 3 : 0;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const unsigned char low = b == 0xf0 ? 0x90 : 0x80;
      const unsigned char high = b == 0xf4 ? 0x8f : 0xbf;
      size = continuation(i + 1, low, high) && continuation(i + 2, 0x80, 0xbf) &&
                     continuation(i + 3, 0x80, 0xbf)
                 ? 4
                 : 0;
    }
    if (size == 0) {
      out.append("\\ufffd");
      ++i;
      continue;
    }
    const std::string_view sequence = text.substr(i, size);
    if (sequence == "\xe2\x80\xa8") {
      out.append("\\u2028");
    } else if (sequence == "\xe2\x80\xa9") {
      out.append("\\u2029");
    } else {
      out.append(sequence);
    }
    i += size;
  }
  out.push_back('"');
  return out;
}

absl::StatusOr<std::vector<std::string>> EnqueueGoWorkers(TestRedis& redis, std::string_view ns,
                                                          std::string_view queue,
                                                          std::string_view job_class,
                                                          std::string_view args_json, int count,
                                                          const GoWorkersOptions& options) {
  if (absl::Status s = CheckArguments(ns, queue, count); !s.ok()) return s;
  if (absl::Status s = CheckJson(args_json, "args_json"); !s.ok()) return s;
  std::vector<std::string> payloads;
  for (int i = 0; i < count; ++i) {
    payloads.push_back(NewJob(queue, job_class, args_json, options.retry, std::nullopt).Payload());
  }
  if (count == 0) return payloads;
  const std::string prefix = Prefix(ns);
  absl::StatusOr<RedisValue> added =
      redis.Command({"SADD", absl::StrCat(prefix, "queues"), std::string(queue)}, options.db);
  if (!added.ok()) {
    return absl::Status(added.status().code(),
                        absl::StrCat("SADD ", prefix, "queues failed: ", added.status().message()));
  }
  if (added->type != RedisValue::Type::kInteger) {
    return absl::InternalError(absl::StrCat("SADD ", prefix, "queues: ", added->ToString()));
  }
  absl::Status status = WriteElements(
      redis, {"RPUSH", absl::StrCat(prefix, "queue:", std::string(queue))}, payloads, options.db);
  if (!status.ok()) return status;
  // The fetcher pops the right end, where the last RPUSH went: newest first.
  std::reverse(payloads.begin(), payloads.end());
  return payloads;
}

absl::StatusOr<std::vector<std::string>> ScheduleGoWorkers(
    TestRedis& redis, std::string_view ns, std::string_view queue, std::string_view job_class,
    std::string_view args_json, int count, double at, const GoWorkersOptions& options) {
  if (absl::Status s = CheckArguments(ns, queue, count); !s.ok()) return s;
  if (absl::Status s = CheckJson(args_json, "args_json"); !s.ok()) return s;
  std::vector<std::string> members;
  for (int i = 0; i < count; ++i) {
    members.push_back(NewJob(queue, job_class, args_json, options.retry, at).Payload());
  }
  return AddToSortedSet(redis, absl::StrCat(Prefix(ns), "schedule"), at, std::move(members),
                        options.db);
}

absl::StatusOr<std::vector<std::string>> RetryGoWorkers(
    TestRedis& redis, std::string_view ns, std::string_view queue, std::string_view job_class,
    std::string_view args_json, int count, double retry_at, const GoWorkersOptions& options) {
  if (absl::Status s = CheckArguments(ns, queue, count); !s.ok()) return s;
  if (absl::Status s = CheckJson(args_json, "args_json"); !s.ok()) return s;
  if (options.retry_count < 0) return absl::InvalidArgumentError("negative retry_count");
  const std::string prefix = Prefix(ns);
  std::vector<std::string> members;
  for (int i = 0; i < count; ++i) {
    // The job as Enqueue wrote it (with retry: true, or it would not be retried) ...
    EnqueuedJob job = NewJob(queue, job_class, args_json, /*retry=*/true, std::nullopt);
    // ... parsed by simplejson (numbers kept as their text), given the retry middleware's
    // fields, and marshalled again as a map: keys sorted, hence the std::map.
    std::map<std::string, std::string> fields;
    fields["args"] = job.args_json;
    fields["at"] = GoJsonFloat(job.at);
    fields["class"] = GoJsonString(job.job_class);
    // A job retried before was put back by the poller, which set a new enqueued_at.
    fields["enqueued_at"] = GoJsonFloat(options.retry_count > 0 ? GoWorkersNow() : job.enqueued_at);
    fields["error_message"] = GoJsonString(options.error_message);
    fields["failed_at"] = GoJsonString(GoUtcTime());
    fields["jid"] = GoJsonString(job.jid);
    // message.Set("queue", queue): the manager's queue name, "queue:" stripped from
    // NS + "queue:" + name, so the namespace stays in it.
    fields["queue"] = GoJsonString(absl::StrCat(prefix, std::string(queue)));
    if (options.retry_count > 0) fields["retried_at"] = GoJsonString(GoUtcTime());
    fields["retry"] = "true";
    fields["retry_count"] = absl::StrCat(options.retry_count);
    std::vector<std::string> parts;
    for (const auto& [name, value] : fields) {
      parts.push_back(absl::StrCat(GoJsonString(name), ":", value));
    }
    members.push_back(absl::StrCat("{", absl::StrJoin(parts, ","), "}"));
  }
  return AddToSortedSet(redis, absl::StrCat(prefix, "goretry"), retry_at, std::move(members),
                        options.db);
}

absl::StatusOr<std::vector<std::string>> InProgressGoWorkers(TestRedis& redis, std::string_view ns,
                                                             std::string_view queue,
                                                             std::string_view process_id, int count,
                                                             const GoWorkersOptions& options) {
  if (absl::Status s = CheckArguments(ns, queue, count); !s.ok()) return s;
  if (absl::Status s = CheckJson(options.args_json, "options.args_json"); !s.ok()) return s;
  if (process_id.empty()) return absl::InvalidArgumentError("empty process id");
  std::vector<std::string> payloads;
  for (int i = 0; i < count; ++i) {
    payloads.push_back(
        NewJob(queue, options.job_class, options.args_json, options.retry, std::nullopt).Payload());
  }
  // fetch.inprogressQueue(): fmt.Sprint(NS + "queue:" + name, ":", processId, ":inprogress").
  const std::string key = absl::StrCat(Prefix(ns), "queue:", std::string(queue), ":",
                                       std::string(process_id), ":inprogress");
  absl::Status status = WriteElements(redis, {"LPUSH", key}, payloads, options.db);
  if (!status.ok()) return status;
  // LRANGE 0 -1 on restart: the head, where the last LPUSH went, first.
  std::reverse(payloads.begin(), payloads.end());
  return payloads;
}

}  // namespace nsq::testutil
