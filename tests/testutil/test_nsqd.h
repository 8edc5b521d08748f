// TestNsqd: the real nsqd binary, started for one test on free loopback ports with its data in
// a fresh temporary directory.
//
//   auto nsqd = TestNsqd::Start({"--max-rdy-count=50"});
//   REQUIRE(nsqd.ok());
//   RawConn::Connect((*nsqd)->tcp_port());
//   HttpGet((*nsqd)->http_port(), "/stats?format=json");
//   (*nsqd)->Restart();                 // SIGTERM, then the same flags and data dir again
//
// The binary is the one CMake built (compile definition NSQD_BINARY); the environment variable
// NSQD_BINARY overrides it. Set NSQ_TEST_ECHO=1 to copy nsqd's log lines to the test's stderr.
// nsqd's output is also kept in <data dir>/../nsqd.log while the TestNsqd lives.
//
// Lifecycle: the TestNsqd owns the process and the temp dir. The destructor kills a running
// nsqd (SIGKILL) and prints the tail of its log if it had died on its own (a crash).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"

namespace nsq::testutil {

class TestNsqd {
 public:
  // How the process is started, beyond its flags.
  struct LaunchOptions {
    // When non-zero, nsqd runs with RLIMIT_FSIZE at this many bytes (every file it writes,
    // RocksDB's WAL included, stops growing there): a "full disk" for this process only.
    uint64_t max_file_size_bytes = 0;
  };

  // Starts nsqd with --tcp-address=127.0.0.1:0 --http-address=127.0.0.1:0
  // --https-address=127.0.0.1:0 --data-path=<temp>
  // followed by `extra_flags`, and waits until it has logged both listening addresses.
  static absl::StatusOr<std::unique_ptr<TestNsqd>> Start(std::vector<std::string> extra_flags = {});
  static absl::StatusOr<std::unique_ptr<TestNsqd>> Start(std::vector<std::string> extra_flags,
                                                         LaunchOptions launch);

  // The nsqd executable to run (see the file comment).
  static std::string BinaryPath();
  // True when that nsqd runs under a sanitizer (this test was built with one, or
  // NSQ_TEST_SANITIZED=1 names a sanitized NSQD_BINARY): its memory figures are the
  // sanitizer's, so tests skip their bounds on resident memory.
  static bool Sanitized();

  ~TestNsqd();
  TestNsqd(const TestNsqd&) = delete;
  TestNsqd& operator=(const TestNsqd&) = delete;

  uint16_t tcp_port() const { return tcp_port_; }
  uint16_t http_port() const { return http_port_; }
  const std::string& data_path() const { return data_path_; }
  // The running (or last) process, e.g. to wait for a log line. Valid after a successful
  // Start or Restart.
  Process& process() { return *process_; }

  // SIGTERM and wait for the exit. Returns the exit code; an error if nsqd did not exit within
  // `deadline` (it is then killed) or was killed by a signal.
  absl::StatusOr<int> Stop(std::chrono::milliseconds deadline = std::chrono::seconds(15));
  // SIGKILL and reap: a crash, as far as nsqd can tell.
  void Kill9();
  // Stops nsqd if it is running (SIGTERM), then starts it again with the same flags and data
  // directory. The ports change (port 0 again).
  absl::Status Restart();
  // The same with `more_flags` after the others (the last value of a flag wins), from now on.
  absl::Status Restart(std::vector<std::string> more_flags);

 private:
  TestNsqd() = default;
  absl::Status Launch();

  std::unique_ptr<TempDir> dir_;
  std::string data_path_;
  std::vector<std::string> extra_flags_;
  LaunchOptions launch_;
  std::unique_ptr<Process> process_;
  uint16_t tcp_port_ = 0;
  uint16_t http_port_ = 0;
  int launches_ = 0;
  bool stopped_on_purpose_ = false;  // Stop()/Kill9() since the last launch
};

}  // namespace nsq::testutil
