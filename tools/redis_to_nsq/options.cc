#include "tools/redis_to_nsq/options.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/config/flag_set.h"
#include "common/log/logger.h"
#include "common/protocol/names.h"
#include "common/util/status_macros.h"

namespace nsq::redis_to_nsq {

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine command_line;
  Options& o = command_line.options;
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string format = "auto";
  std::vector<std::string> queues;
  absl::Duration horizon = absl::ZeroDuration();

  config::FlagSet flags("redis_to_nsq");
  flags.AddBool("version", &command_line.show_version, "print the version and exit")
      .CommandLineOnly();
  flags.AddString("redis-url", &redis_url,
                  "Redis to drain: redis://[user:password@]host:port/db or "
                  "unix:///path/to/redis.sock?db=N");
  flags.AddString("namespace", &o.ns,
                  "key prefix of redis-namespace (Sidekiq <= 6) or go-workers' namespace, "
                  "without the ':'");
  flags.AddString("format", &format, "queue layout: sidekiq, go-workers or auto (detect)");
  flags.AddStringList("queues", &queues,
                      "queues to move (repeatable or comma-separated; default: all)");
  flags.AddStringList("nsqd-tcp-address", &o.nsqd_tcp_addresses,
                      "nsqd to publish to (repeatable: round-robin, failing over when one is "
                      "down)");
  flags.AddStringList("lookupd-http-address", &o.lookupd_http_addresses,
                      "nsqlookupd to ask where to publish: the nsqd that have the topic, else any "
                      "(repeatable)");
  flags.AddStringList("topic", &o.topics,
                      "queue=topic: where a queue's jobs go (repeatable; default: the queue name "
                      "made a valid topic name)");
  flags.AddBool("merge", &o.merge, "allow several queues to move to one topic");
  flags.AddBool("include-scheduled", &o.include_scheduled,
                "also move the scheduled set (due jobs at once, later ones with DPUB)");
  flags.AddBool("include-retry", &o.include_retry,
                "also move the retry set (Sidekiq's retry, go-workers' goretry), keeping each "
                "job's retry count");
  flags.AddBool("include-dead", &o.include_dead,
                "also move Sidekiq's dead set, to <topic>.dead (where nsq::jobs puts dead jobs)");
  flags.AddBool("adopt-in-progress", &o.adopt_in_progress,
                "also move in-progress lists (go-workers ...:inprogress, Sidekiq reliable "
                "fetch). STOP THEIR WORKERS FIRST: a live worker may still run those jobs, and "
                "a restarted one would run them again");
  flags.AddDuration("max-req-timeout", &o.max_req_timeout,
                    "nsqd's --max-req-timeout: the longest DPUB delay; later jobs stay in Redis");
  flags.AddDuration("horizon", &horizon,
                    "move scheduled/retry jobs only once they are due within this (at most "
                    "--max-req-timeout, its default); with --follow they move as they come "
                    "within it");
  flags.AddBool("follow", &o.follow,
                "keep moving jobs that producers still push to Redis until SIGINT/SIGTERM "
                "(for a cut-over)");
  flags.AddBool("dry-run", &o.dry_run,
                "show what would move (counts, ages, samples, the topic map, what is skipped) "
                "and change nothing");
  flags.AddBool("strict", &o.strict,
                "quarantine payloads that are not JSON objects instead of forwarding them");
  flags.AddInt("batch", &o.batch, "jobs claimed and published at a time");
  flags.AddInt("rate", &o.rate, "at most this many jobs per second (0: no limit)");
  flags.AddString("id", &o.id,
                  "this migrator's stable id: its unacknowledged batches are kept under it and "
                  "published first when it runs again");
  flags.AddInt("max-msg-size", &o.max_msg_size,
               "nsqd's --max-msg-size: larger jobs go to the quarantine list");
  flags.AddInt("max-body-size", &o.max_body_size, "nsqd's --max-body-size: the largest MPUB");
  flags.AddString("progress", &o.progress,
                  "auto (a live display on a terminal, log lines otherwise), terminal or log");
  flags.AddString("log-level", &o.log_level, "debug, info, warn, error or fatal");

  NSQ_ASSIGN_OR_RETURN(config::ParseResult parsed, flags.Parse(argc, argv));
  if (parsed.help_requested) {
    command_line.show_help = true;
    command_line.help_text = flags.Usage();
    return command_line;
  }
  if (command_line.show_version) return command_line;

  NSQ_ASSIGN_OR_RETURN(o.redis, ParseRedisUrl(redis_url));
  if (format == "sidekiq") {
    o.format = Format::kSidekiq;
  } else if (format == "go-workers") {
    o.format = Format::kGoWorkers;
  } else if (format != "auto") {
    return absl::InvalidArgumentError(
        absl::StrFormat("invalid --format \"%s\" (want sidekiq, go-workers or auto)", format));
  }
  for (const std::string& entry : queues) {
    for (absl::string_view queue : absl::StrSplit(entry, ',', absl::SkipEmpty())) {
      o.queues.emplace_back(queue);
    }
  }
  if (o.nsqd_tcp_addresses.empty() == o.lookupd_http_addresses.empty() && !o.dry_run) {
    return absl::InvalidArgumentError(
        "give --nsqd-tcp-address or --lookupd-http-address (one of the two)");
  }
  if (o.max_req_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max-req-timeout must be positive");
  }
  o.horizon = horizon == absl::ZeroDuration() ? o.max_req_timeout : horizon;
  if (o.horizon < absl::ZeroDuration() || o.horizon > o.max_req_timeout) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--horizon must be within --max-req-timeout (%s): nsqd refuses longer DPUB delays",
        absl::FormatDuration(o.max_req_timeout)));
  }
  if (o.batch < 1 || o.batch > 100000) {
    return absl::InvalidArgumentError("--batch must be in [1, 100000]");
  }
  if (o.rate < 0) return absl::InvalidArgumentError("--rate must not be negative");
  if (o.max_msg_size < 1 || o.max_body_size < o.max_msg_size + 8) {
    return absl::InvalidArgumentError(
        "--max-msg-size must be positive and --max-body-size must hold one such message");
  }
  if (o.id.empty() || o.id.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("--id must be a word (no spaces)");
  }
  if (o.progress != "auto" && o.progress != "terminal" && o.progress != "log") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "invalid --progress \"%s\" (want auto, terminal or log)", o.progress));
  }
  log::Level level;
  if (!log::ParseLevel(o.log_level, &level)) {
    return absl::InvalidArgumentError(absl::StrFormat("invalid --log-level \"%s\"", o.log_level));
  }
  return command_line;
}

}  // namespace nsq::redis_to_nsq
