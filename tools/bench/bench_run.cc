#include "tools/bench/bench_run.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "common/config/flag_set.h"

namespace nsq::bench {
namespace {

// Whether the current worker thread reached WaitForStart. A worker that fails while connecting
// never does, and the harness must count it as ready or the start would wait forever.
thread_local bool t_arrived = false;
// The worker's number, 0 .. connections - 1.
thread_local int64_t t_worker_index = 0;

}  // namespace

BenchRun::BenchRun(const BenchOptions& options, StopRule rule)
    : options_(options), rule_(rule), ready_(options.connections) {}

Clock::time_point BenchRun::WaitForStart() {
  t_arrived = true;
  ready_.count_down();
  go_.wait();  // the latch orders the harness's writes of start_/end_by_runfor_ before this
  return end_by_runfor_;
}

void BenchRun::WaitForStop() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return stopped_.load(); });
}

std::string BenchRun::WorkerTopic() const {
  if (options_.topics <= 1) return options_.topic;
  return options_.topic + "_" + std::to_string(t_worker_index % options_.topics);
}

int64_t BenchRun::ClaimMessages(int64_t want) {
  if (options_.count == 0) return want;
  int64_t before = claimed_.fetch_add(want, std::memory_order_relaxed);
  if (before >= options_.count) return 0;
  return std::min(want, options_.count - before);
}

void BenchRun::AddMessages(int64_t n) {
  int64_t before = messages_.fetch_add(n, std::memory_order_relaxed);
  if (rule_ == StopRule::kAtRunforOrCount && options_.count > 0 && before < options_.count &&
      before + n >= options_.count) {
    Stop(/*failed=*/false);
  }
}

void BenchRun::Stop(bool failed) {
  std::lock_guard lock(mu_);
  if (!end_) end_ = Clock::now();
  if (failed) aborted_.store(true);
  stopped_.store(true);
  changed_.notify_all();
}

void BenchRun::WorkerDone(absl::Status status) {
  bool failed = false;
  {
    std::lock_guard lock(mu_);
    ++workers_done_;
    if (!status.ok() && !absl::IsCancelled(status) && first_error_.ok()) {
      first_error_ = std::move(status);
      failed = true;
    }
    changed_.notify_all();
  }
  if (failed) Stop(/*failed=*/true);
}

absl::StatusOr<BenchResult> RunConnections(const BenchOptions& options, StopRule rule,
                                           const std::function<absl::Status(BenchRun&)>& worker) {
  BenchRun run(options, rule);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(options.connections));
  for (int64_t i = 0; i < options.connections; ++i) {
    threads.emplace_back([&run, &worker, i] {
      t_worker_index = i;
      absl::Status status = worker(run);
      if (!t_arrived) run.ready_.count_down();
      run.WorkerDone(std::move(status));
    });
  }

  run.ready_.wait();
  if (options.deadline && !run.aborted_.load()) {
    auto wait = *options.deadline - std::chrono::system_clock::now();
    std::time_t deadline = std::chrono::system_clock::to_time_t(*options.deadline);
    std::tm local{};
    localtime_r(&deadline, &local);
    char when[64];
    std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &local);
    std::fprintf(
        stderr, "sleeping until %s (%s)\n", when,
        config::FormatGoDuration(absl::FromChrono(wait)).c_str());
    std::this_thread::sleep_until(*options.deadline);
  }
  run.start_ = Clock::now();
  run.end_by_runfor_ = run.start_ + options.runfor;
  run.go_.count_down();

  if (rule == StopRule::kAtRunforOrCount) {
    {
      std::unique_lock lock(run.mu_);
      run.changed_.wait_until(lock, run.end_by_runfor_, [&run, &options] {
        return run.end_.has_value() || run.workers_done_ == options.connections;
      });
    }
    run.Stop(/*failed=*/false);
  }
  for (std::thread& thread : threads) thread.join();
  Clock::time_point end = Clock::now();

  std::lock_guard lock(run.mu_);
  if (!run.first_error_.ok()) return run.first_error_;
  if (rule == StopRule::kAtRunforOrCount && run.end_) end = *run.end_;
  return BenchResult{.messages = run.messages_.load(), .duration = end - run.start_};
}

void PrintResult(const BenchOptions& options, const BenchResult& result) {
  const bool writer = IsWriterMode(options.mode);
  const double seconds = std::chrono::duration<double>(result.duration).count();
  const double messages = static_cast<double>(result.messages);
  const double mb_per_sec = messages * static_cast<double>(options.size) / seconds / 1024 / 1024;
  const double ops_per_sec = messages / seconds;
  // Upstream divides whole microseconds by the count, and Go prints +Inf for no messages.
  const double us_per_op =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::microseconds>(result.duration).count()) /
      messages;
  char us_per_op_text[32] = "+Inf";
  if (result.messages > 0) {
    std::snprintf(us_per_op_text, sizeof(us_per_op_text), "%.03f", us_per_op);
  }
  const std::string duration = config::FormatGoDuration(absl::FromChrono(result.duration));
  std::printf("[bench_%s] duration: %s - %.03fmb/s - %.03fops/s - %sus/op\n",
              writer ? "writer" : "reader", duration.c_str(), mb_per_sec, ops_per_sec,
              us_per_op_text);
  std::printf("RESULT mode=%s msgs=%lld seconds=%.6f msgs_per_sec=%.1f mb_per_sec=%.3f\n",
              BenchModeName(options.mode), static_cast<long long>(result.messages), seconds,
              ops_per_sec, mb_per_sec);
  std::fflush(stdout);
}

}  // namespace nsq::bench
