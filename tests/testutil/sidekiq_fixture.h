// The Sidekiq fixture from C++: runs tests/redis/sidekiq_fixture.rb, which creates real Sidekiq
// jobs in a Redis through Sidekiq's (and ActiveJob's) own Ruby code, and parses the one JSON
// line per job it prints. See that script for its modes and options and tests/redis/FINDINGS.md
// for what the jobs look like in Redis.
//
//   auto jobs = RunSidekiqFixture({"--redis-url", redis->url(), "--mode", "enqueue",
//                                  "--queue", "default", "--count", "3"});
//   REQUIRE(jobs.ok());                   // 3 FixtureJobs, kind "immediate"
//
//   // A producer that keeps pushing while the migration runs (cut-over tests):
//   auto loop = SidekiqFixtureProcess::Start({"--redis-url", redis->url(), "--mode",
//       "push-loop", "--queue", "live", "--seconds", "60", "--rate", "200"});
//   REQUIRE(WaitFor([&] { return redis->Integer({"LLEN", "queue:live"}) > 0; }, 10s));
//   ... run the migration ...
//   auto pushed = (*loop)->Stop();        // SIGTERM; pushed->count is N of "pushed N"
//
// Needs ruby with the Debian packages ruby-sidekiq, ruby-redis-namespace and ruby-activejob
// (scripts/setup.sh installs them). ruby is found on PATH (or /usr/bin/ruby); the environment
// variable RUBY overrides it. The script is the one in this source tree (compile definition
// NSQ_SOURCE_DIR). Its stdout is parsed; its stderr (Ruby warnings, --verbose logs) goes to a
// file of its own and is quoted in error messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"

namespace nsq::testutil {

// One job the script created: one line of its output.
struct FixtureJob {
  std::string jid;    // Sidekiq's 24-hex job id (the "jid" field of the payload)
  std::string queue;  // the queue name, without namespace or "queue:" prefix
  std::string kind;   // "immediate", "scheduled", "retry", "dead" or "activejob"
  // The job's score in its sorted set (run-at, retry-at or time of death, float epoch
  // seconds); nullopt when it sits in a queue:NAME list.
  std::optional<double> at;
};

// Everything a finished run printed.
struct FixtureResult {
  std::vector<FixtureJob> jobs;  // in output order; empty with --quiet
  int64_t count = 0;             // N of the last line, "created N" or "pushed N"
};

// The script and the interpreter that runs it.
std::string SidekiqFixtureScript();
std::string RubyPath();

// Runs the script with `args` (nothing is added: pass --redis-url, --mode, --queue, ...) and
// waits up to `deadline` for it to finish. An error when it cannot start, exits non-zero (the
// message quotes its stderr, where it explains why), prints a line that is neither a job nor
// the summary, or prints a number of jobs other than its summary says (unless --quiet).
absl::StatusOr<std::vector<FixtureJob>> RunSidekiqFixture(
    std::vector<std::string> args, std::chrono::milliseconds deadline = std::chrono::minutes(2));

// The script running in the background (mainly --mode push-loop).
//
// Lifecycle: owns the process and the temp dir holding its stderr; the destructor kills a
// script that is still running (SIGKILL).
class SidekiqFixtureProcess {
 public:
  // Starts `ruby sidekiq_fixture.rb <args>` and returns at once.
  static absl::StatusOr<std::unique_ptr<SidekiqFixtureProcess>> Start(
      std::vector<std::string> args);

  SidekiqFixtureProcess(const SidekiqFixtureProcess&) = delete;
  SidekiqFixtureProcess& operator=(const SidekiqFixtureProcess&) = delete;
  ~SidekiqFixtureProcess() = default;

  // The ruby process itself (the pid signals reach; its captured stdout).
  Process& process() { return *process_; }

  // Waits up to `deadline` for the script to exit by itself, then parses its output as
  // RunSidekiqFixture() does. The script is killed if it is still running at the deadline.
  absl::StatusOr<FixtureResult> Wait(std::chrono::milliseconds deadline);

  // SIGTERM, then Wait(). push-loop traps TERM: it stops pushing, prints "pushed N" and exits 0.
  // Ruby needs ~0.3 s to load Sidekiq before the trap is installed; a TERM that arrives earlier
  // kills it without a summary, which is reported as an error. So stop it only once it has
  // visibly pushed (WaitFor LLEN queue:Q > 0, or a job seen downstream).
  absl::StatusOr<FixtureResult> Stop(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // What the script wrote to stderr so far.
  std::string Stderr() const;

 private:
  SidekiqFixtureProcess() = default;

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Process> process_;
  bool quiet_ = false;
};

}  // namespace nsq::testutil
