// Process: a child program started by a test (nsqd, nsqd --version, ...), with its stdout and
// stderr captured line by line so the test can wait for what it prints.
//
//   Process::Options options;
//   options.argv = {"/path/to/nsqd", "--tcp-address=127.0.0.1:0"};
//   options.log_path = dir.File("nsqd.log");
//   auto process = Process::Start(std::move(options));
//   auto line = (*process)->WaitForOutput(std::regex("TCP: listening on"), 10s);
//   (*process)->Signal(SIGTERM);
//   std::optional<ExitStatus> status = (*process)->Wait(10s);
//
// Lifecycle: the Process owns the child. Its destructor kills (SIGKILL) and reaps a child that
// is still running, so a failing test never leaves a server behind; the child also gets
// SIGKILL if the thread that started it dies. One reader thread per Process drains the pipe
// into a buffer guarded by a mutex; every other method is meant for the test's own thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace nsq::testutil {

// How a child ended: its exit code, or the signal that killed it.
struct ExitStatus {
  int exit_code = -1;  // meaningful when signal == 0
  int signal = 0;      // non-zero when a signal ended the child

  bool exited() const { return signal == 0; }
  std::string ToString() const;
};

// True when NSQ_TEST_ECHO is set (and not "0"): the test helpers then copy the output of the
// servers they start to the test's stderr.
bool EchoRequested();

// `name` in a directory of $PATH, else `fallback` (Process::Start does no PATH lookup).
std::string FindOnPath(std::string_view name, std::string fallback);

class Process {
 public:
  struct Options {
    // argv[0] is the program: a path (no PATH lookup).
    std::vector<std::string> argv;
    // "NAME=value" entries added to (or replacing in) the test's own environment.
    std::vector<std::string> extra_env;
    // When set, every captured line is also appended to this file (for post-mortems).
    std::string log_path;
    // When true, every captured line is also written to the test's stderr, prefixed.
    bool echo_to_stderr = false;
    std::string echo_prefix;
    // When non-zero, the child's RLIMIT_FSIZE (soft and hard), set after fork and before exec:
    // a write past this size fails with EFBIG (or raises SIGXFSZ unless the program ignores
    // it). Lets a test fill "the disk" of one process without filling the real one.
    uint64_t max_file_size_bytes = 0;
  };

  // Starts the program with stdin from /dev/null and stdout+stderr into one captured pipe.
  // Fails when the program cannot be executed (the reason is in the status).
  static absl::StatusOr<std::unique_ptr<Process>> Start(Options options);

  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // The first captured line matching `pattern` (std::regex_search) or containing `substring`,
  // waiting up to `deadline` for it to appear. Lines already captured count. nullopt at the
  // deadline, or as soon as the output has ended (the child closed it, usually by exiting)
  // without a match.
  std::optional<std::string> WaitForOutput(const std::regex& pattern,
                                           std::chrono::milliseconds deadline);
  std::optional<std::string> WaitForOutput(std::string_view substring,
                                           std::chrono::milliseconds deadline);

  // Waits until the child's output has ended (it exited or closed stdout and stderr).
  bool WaitForOutputEnd(std::chrono::milliseconds deadline);

  // Everything captured so far (complete lines, each ending in '\n').
  std::string Output() const;
  // The last `count` captured lines joined with '\n' (for failure messages).
  std::string Tail(size_t count) const;

  // Sends `signal` to the child. False if it has already been reaped or kill(2) failed.
  bool Signal(int signal);
  // Waits up to `deadline` for the child to end and reaps it, then (up to 2 s) for its output
  // to be read to the end, so Output() has its last lines. nullopt if it is still running.
  // Once reaped, returns the same status on every call.
  std::optional<ExitStatus> Wait(std::chrono::milliseconds deadline);
  // SIGKILL and reap (returns at once if already reaped).
  ExitStatus Kill();
  // True until the child has been seen to end.
  bool Running();

 private:
  Process(pid_t pid, int read_fd, Options options);
  void ReadLoop();
  void AddLineLocked(std::string line);
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds deadline);

  const pid_t pid_;
  const int read_fd_;
  const Options options_;
  std::optional<ExitStatus> exit_status_;
  std::FILE* log_file_ = nullptr;  // written by the reader thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;  // guarded by mu_
  bool output_ended_ = false;       // guarded by mu_

  std::thread reader_;
};

}  // namespace nsq::testutil
