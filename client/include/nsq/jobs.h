// Jobs: Sidekiq-style background jobs on NSQ. A Client enqueues a job to the topic named after
// its queue; a Worker consumes that topic, runs the handler registered for the job's class
// (ActiveJob's real class for wrapped jobs), retries failures with Sidekiq's backoff (the job
// republished deferred, with Sidekiq's failure fields) and, once the job's retry limit is
// spent, publishes it to the dead-letter topic "<queue>.dead".
//
//   nsq::jobs::Client jobs("127.0.0.1:4150");
//   absl::StatusOr<std::string> jid = jobs.Enqueue("mail", "WelcomeMail", R"([42, "en"])");
//
//   nsq::jobs::WorkerOptions options;
//   options.nsqd_tcp_addresses = {"127.0.0.1:4150"};
//   nsq::jobs::Worker worker("mail", options);
//   worker.Register("WelcomeMail", [](const nsq::jobs::Job& job) {
//     return SendWelcome(job.args_json);   // OK → done; an error → retry later
//   });
//   absl::Status s = worker.Start(/*concurrency=*/4);
//   ...
//   worker.Stop();
//
// The message body is the job JSON exactly as Sidekiq and go-workers store it in Redis
// ({"class", "args", "jid", "queue", "retry", "created_at", "enqueued_at", ...}), so jobs
// drained from Redis by the migration tool run unchanged, and other fields (Sidekiq's
// `wrapped`, go-workers' `at`, ...) are carried along in Job::raw_json.
//
// Retries: as Sidekiq's retry set, a failed job is published again (deferred by the retry
// delay, to the nsqd it came from) with Sidekiq's failure fields: error_message, error_class,
// retry_count (failures - 1), failed_at (the first failure's time, kept afterwards) and
// retried_at (each later failure's), in the job's own time unit; the failed message is then
// finished. The dead letter carries the same fields. The number of earlier failures is the
// message's NSQ attempts - 1, plus retry_count + 1 when the JSON carries `retry_count` (so a
// job drained from Sidekiq's retry set keeps its budget, and a retry that could only be
// requeued unchanged still counts). The limit is the job's `retry`: true → 25, an integer N → N,
// false or absent → none (go-workers omits `retry` for jobs that must not be retried). nsqd
// bounds REQ and DPUB delays by --max-req-timeout (1 h by default), so a retry waits at most
// WorkerOptions::max_retry_delay: retries from the 8th on come hourly instead of Sidekiq's
// days-long waits, and 25 retries span about 18 hours instead of about 3 weeks.
//
// Threads: every method may be called from any thread; handlers run on the Worker's handler
// threads (see Consumer). Payload JSON is handed over as text, so this header needs no JSON
// library; parse Job::args_json with whichever one your code uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nsq/config.h"

namespace nsq::jobs {

// The largest delay nsqd accepts by default for DPUB and REQ (its --max-req-timeout).
inline constexpr std::chrono::milliseconds kNsqdMaxDelay{60 * 60 * 1000};
// Retries of a job whose `retry` is true, as in Sidekiq.
inline constexpr int kDefaultRetryLimit = 25;

// The one queue-name rule of Client::Enqueue and Worker::Start: the queue is an NSQ topic, and
// so is its dead-letter topic "<queue>.dead", so a queue name is 1-59 characters of
// [.a-zA-Z0-9_-] (an "#ephemeral" queue cannot have a dead-letter topic). OK or
// InvalidArgument saying why.
absl::Status ValidateQueueName(std::string_view queue);

struct EnqueueOptions {
  // Deliver no earlier than this (DPUB). At most kNsqdMaxDelay: longer delays need a scheduler
  // outside nsqd, so Enqueue refuses them instead of silently running the job early.
  std::chrono::milliseconds delay{0};
  // The job's `retry`: empty writes true (25 retries); N writes N (0 = never retry).
  std::optional<int> retry;
};

// Publishes jobs. Owns one Producer (see nsq/producer.h for its connection behaviour).
class Client {
 public:
  // `nsqd_tcp_address` is "host:port".
  explicit Client(std::string nsqd_tcp_address, client::Config config = client::Config());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Writes {"class", "args", "jid", "queue", "retry", "created_at", "enqueued_at"} to the topic
  // `queue` and returns the new jid (24 lowercase hex characters, as Sidekiq). `args_json`
  // must be a JSON array. InvalidArgument for a queue ValidateQueueName refuses, an empty class, args that are not an array, or a delay outside 0 .. kNsqdMaxDelay; otherwise
  // the producer's status once nsqd answered.
  absl::StatusOr<std::string> Enqueue(const std::string& queue, const std::string& job_class,
                                      const std::string& args_json,
                                      const EnqueueOptions& options = EnqueueOptions());

  // Waits for outstanding publishes, then closes. Idempotent; the destructor calls it.
  void Stop();

 private:
  class Core;
  std::unique_ptr<Core> core_;
};

// One job as its handler sees it.
struct Job {
  std::string job_class;
  // The `args` array as JSON text ("[]" when the job has none).
  std::string args_json;
  // For an ActiveJob (job_class "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper" or
  // "Sidekiq::ActiveJob::Wrapper"): the real class from the job's `wrapped`; else empty.
  std::string wrapped;
  // Empty when the job JSON has no jid.
  std::string jid;
  // The queue (topic) the job was consumed from.
  std::string queue;
  // Failures before this run: 0 on the first run (see the retry rules above).
  int retry_count = 0;
  // The whole message body, including fields this struct does not lift out.
  std::string raw_json;
};

// OK → the job is done (FIN). An error → retry or dead letter; its message becomes the job's
// `error_message` and its code name (e.g. "INTERNAL") the `error_class`.
using JobHandler = std::function<absl::Status(const Job& job)>;

struct WorkerOptions {
  // Where to consume: nsqd TCP addresses and/or nsqlookupd HTTP addresses ("host:port").
  std::vector<std::string> nsqd_tcp_addresses;
  std::vector<std::string> lookupd_http_addresses;
  // Workers sharing a channel share the jobs; another channel gets its own copy of every job.
  std::string channel = "workers";
  // The consumer's options. max_in_flight is raised to the concurrency if lower; max_attempts
  // is ignored (the job's retry limit decides). Its logger also receives the worker's lines.
  client::Config config;
  // Delay before retry number `retry_count` + 1 (retry_count = failures before the failed run).
  // Default: SidekiqRetryDelay. Tests inject milliseconds here. Called on the handler threads,
  // possibly concurrently.
  std::function<std::chrono::milliseconds(int retry_count)> retry_delay;
  // Upper bound of a retry delay; keep it <= nsqd's --max-req-timeout.
  std::chrono::milliseconds max_retry_delay = kNsqdMaxDelay;
  // Off (0) by default. When set, a job whose jid this worker is running, or ran successfully
  // less than this long ago, is finished without running again: duplicates from at-least-once
  // delivery (a consumer that timed out, a redis_to_nsq batch republished after a crash) run
  // once. Per worker process, in memory, at most `dedupe_max_jids` jids (the oldest are
  // forgotten first); jobs without a jid are never deduplicated.
  std::chrono::milliseconds dedupe_window{0};
  size_t dedupe_max_jids = 100000;
};

// Sidekiq's retry delay: retry_count^4 + 15 + rand(10) * (retry_count + 1) seconds.
std::chrono::milliseconds SidekiqRetryDelay(int retry_count);

// Consumes one queue and runs jobs by class. Lifecycle: construct, Register handlers, Start,
// Stop (the destructor stops). Dead letters are published to the nsqd the job came from.
class Worker {
 public:
  Worker(std::string queue, WorkerOptions options);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Replaces any earlier handler of `job_class`. Jobs of a class without a handler fail (and
  // so are retried, then dead-lettered), with an error log naming the class. An ActiveJob
  // runs on the handler of its `wrapped` class when one is registered (Job::wrapped), else
  // on the wrapper class's handler.
  void Register(const std::string& job_class, JobHandler handler);

  // Starts `concurrency` handler threads and connects. InvalidArgument for a queue
  // ValidateQueueName refuses, no addresses, a bad address, or a bad Config;
  // FailedPrecondition when started before.
  absl::Status Start(int concurrency = 1);

  // Stops taking jobs, waits for running handlers and their FIN/REQ/dead letters. Idempotent.
  void Stop();

 private:
  class Core;
  std::unique_ptr<Core> core_;
};

}  // namespace nsq::jobs
