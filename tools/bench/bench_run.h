// The harness shared by every mode: one thread per connection (or client producer), a common
// start (after every connection is set up and the optional --deadline has passed), the run
// clock, the message total, and failure handling (the first real error stops every thread).
//
//   absl::StatusOr<BenchResult> result = RunConnections(options, StopRule::kAtRunfor, Worker);
//   PrintResult(options, *result);
//
// A worker connects, calls run.WaitForStart(), does its work and returns OK (or kCancelled when
// it ended because the run stopped). Any other status fails the whole run.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <latch>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"

namespace nsq::bench {

using Clock = std::chrono::steady_clock;

struct BenchResult {
  int64_t messages = 0;
  std::chrono::nanoseconds duration{0};
};

// When a run ends.
enum class StopRule {
  // Workers watch the clock themselves and finish what they started (the writer waits for the
  // ack of its last batch, as upstream does); the run ends when the last worker returns.
  kWorkersFinish,
  // The run ends at start + runfor or when --count messages were counted, whichever is first;
  // stop_flag() turns true at that moment (the reader).
  kAtRunforOrCount,
};

// Shared state of one run. Created by RunConnections; workers get a reference.
class BenchRun {
 public:
  BenchRun(const BenchOptions& options, StopRule rule);

  const BenchOptions& options() const { return options_; }

  // True once the run failed: the flag for connections that must finish their work otherwise.
  const std::atomic<bool>& abort_flag() const { return aborted_; }
  // True once the run failed or (kAtRunforOrCount) ended.
  const std::atomic<bool>& stop_flag() const { return stopped_; }

  // Marks this worker's connection as set up and blocks until the common start. Returns the
  // instant the run should end (start + runfor).
  Clock::time_point WaitForStart();

  // Blocks until stop_flag() turns true (for workers with nothing to read on, such as the
  // client reader, whose library threads do the work).
  void WaitForStop();

  // The topic of the calling worker: --topic, or with --topics N > 1, "<topic>_<i mod N>" for
  // worker i (so N topics each get connections / N workers).
  std::string WorkerTopic() const;

  // Writer --count: reserves up to `want` of the remaining messages; 0 when none are left.
  int64_t ClaimMessages(int64_t want);

  // Adds counted (acknowledged or received) messages. With kAtRunforOrCount and --count, the
  // call that reaches the count ends the run.
  void AddMessages(int64_t n);

 private:
  friend absl::StatusOr<BenchResult> RunConnections(
      const BenchOptions& options, StopRule rule,
      const std::function<absl::Status(BenchRun&)>& worker);

  // Records the end instant once and wakes everything waiting on the run.
  void Stop(bool failed);
  void WorkerDone(absl::Status status);

  const BenchOptions& options_;
  const StopRule rule_;
  std::latch ready_;
  std::latch go_{1};
  Clock::time_point start_;
  Clock::time_point end_by_runfor_;

  std::atomic<bool> aborted_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int64_t> messages_{0};
  std::atomic<int64_t> claimed_{0};

  std::mutex mu_;
  std::condition_variable changed_;
  int workers_done_ = 0;                  // guarded by mu_
  std::optional<Clock::time_point> end_;  // guarded by mu_; when kAtRunforOrCount stopped
  absl::Status first_error_;              // guarded by mu_
};

// Runs `worker` on options.connections threads and times the run from the common start.
// Fails with the first error a worker returned (e.g. an error frame from nsqd).
absl::StatusOr<BenchResult> RunConnections(const BenchOptions& options, StopRule rule,
                                           const std::function<absl::Status(BenchRun&)>& worker);

// Prints upstream's line and a machine-readable one:
//   [bench_writer] duration: 10.000123s - 52.300mb/s - 274219.800ops/s - 3.647us/op
//   RESULT mode=writer msgs=2742198 seconds=10.000123 msgs_per_sec=274219.8 mb_per_sec=52.300
// (client-writer/client-reader print bench_writer/bench_reader and mode=client-writer/...).
void PrintResult(const BenchOptions& options, const BenchResult& result);

}  // namespace nsq::bench
