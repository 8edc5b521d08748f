// TestLookupd: the real nsqlookupd binary, started for one test on free loopback ports.
//
//   auto lookupd = TestLookupd::Start({"--inactive-producer-timeout=1s"});
//   REQUIRE(lookupd.ok());
//   RawConn::Connect((*lookupd)->tcp_port());         // a V1 registration connection
//   HttpGet((*lookupd)->http_port(), "/lookup?topic=t");
//   (*lookupd)->Restart();                            // SIGTERM, then again on the same ports
//
// The binary is the one CMake built (compile definition NSQLOOKUPD_BINARY); the environment
// variable NSQLOOKUPD_BINARY overrides it. Set NSQ_TEST_ECHO=1 to copy its log lines to the
// test's stderr; the log is also kept in a temp dir while the TestLookupd lives.
//
// Lifecycle: the TestLookupd owns the process. The destructor kills a running nsqlookupd
// (SIGKILL) and prints the tail of its log if it had died on its own (a crash).
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

class TestLookupd {
 public:
  // Starts nsqlookupd with --tcp-address=127.0.0.1:0 --http-address=127.0.0.1:0 followed by
  // `extra_flags`, and waits until it has logged both listening addresses.
  static absl::StatusOr<std::unique_ptr<TestLookupd>> Start(
      std::vector<std::string> extra_flags = {});

  // The nsqlookupd executable to run (see the file comment).
  static std::string BinaryPath();

  ~TestLookupd();
  TestLookupd(const TestLookupd&) = delete;
  TestLookupd& operator=(const TestLookupd&) = delete;

  uint16_t tcp_port() const { return tcp_port_; }
  uint16_t http_port() const { return http_port_; }
  // "127.0.0.1:<tcp port>", what nsqd's --lookupd-tcp-address takes.
  std::string tcp_address() const;
  Process& process() { return *process_; }

  // SIGTERM and wait for the exit. Returns the exit code; an error if it did not exit within
  // `deadline` (it is then killed) or was killed by a signal.
  absl::StatusOr<int> Stop(std::chrono::milliseconds deadline = std::chrono::seconds(15));
  // SIGKILL and reap.
  void Kill9();
  // Stops it if running (SIGTERM), then starts it again with the same flags on the same ports,
  // so nsqd nodes configured with its address find it again.
  absl::Status Restart();

 private:
  TestLookupd() = default;
  absl::Status Launch(uint16_t tcp_port, uint16_t http_port);

  std::unique_ptr<TempDir> dir_;
  std::vector<std::string> extra_flags_;
  std::unique_ptr<Process> process_;
  uint16_t tcp_port_ = 0;
  uint16_t http_port_ = 0;
  int launches_ = 0;
  bool stopped_on_purpose_ = false;
};

}  // namespace nsq::testutil
