#include "tests/testutil/test_nsqd.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#ifndef NSQD_BINARY
#define NSQD_BINARY "nsqd"
#endif

namespace nsq::testutil {
namespace {

constexpr std::chrono::seconds kStartupDeadline(15);


// Extracts the port of "...TCP: listening on 127.0.0.1:41234" style lines.
absl::StatusOr<uint16_t> WaitForListeningPort(Process& process, const char* what) {
  // The [^A-Z] keeps "TCP" from matching inside another word; HTTPS is a different line.
  std::regex pattern(std::string("(^|[^A-Z])") + what + ": listening on \\S*:([0-9]+)");
  std::optional<std::string> line = process.WaitForOutput(pattern, kStartupDeadline);
  if (!line.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "nsqd did not log \"", what, ": listening on ...\"; its output:\n", process.Tail(40)));
  }
  std::smatch match;
  std::regex_search(*line, match, pattern);
  uint32_t port = 0;
  if (!absl::SimpleAtoi(match[2].str(), &port) || port == 0 || port > 65535) {
    return absl::InternalError(absl::StrCat("bad port in nsqd line: ", *line));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

std::string TestNsqd::BinaryPath() {
  const char* env = std::getenv("NSQD_BINARY");
  if (env != nullptr && *env != '\0') return env;
  return NSQD_BINARY;
}

bool TestNsqd::Sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return true;
#else
  const char* env = std::getenv("NSQ_TEST_SANITIZED");
  return env != nullptr && std::string_view(env) == "1";
#endif
}

absl::StatusOr<std::unique_ptr<TestNsqd>> TestNsqd::Start(std::vector<std::string> extra_flags) {
  return Start(std::move(extra_flags), LaunchOptions{});
}

absl::StatusOr<std::unique_ptr<TestNsqd>> TestNsqd::Start(std::vector<std::string> extra_flags,
                                                          LaunchOptions launch) {
  std::unique_ptr<TestNsqd> nsqd(new TestNsqd());
  nsqd->launch_ = launch;
  nsqd->dir_ = std::make_unique<TempDir>("nsqd-test");
  nsqd->data_path_ = nsqd->dir_->File("data");
  if (mkdir(nsqd->data_path_.c_str(), 0700) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", nsqd->data_path_));
  }
  nsqd->extra_flags_ = std::move(extra_flags);
  absl::Status status = nsqd->Launch();
  if (!status.ok()) return status;
  return nsqd;
}

absl::Status TestNsqd::Launch() {
  Process::Options options;
  // --https-address too: it is opened only with TLS, but then never on the shared default port.
  options.argv = {BinaryPath(), "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                  "--https-address=127.0.0.1:0", absl::StrCat("--data-path=", data_path_)};
  // NSQD_WORKER_THREADS runs every test's nsqd with that many shards (CI runs the suite with
  // 1 and with 4); a test's own --worker-threads comes later and wins.
  if (const char* shards = std::getenv("NSQD_WORKER_THREADS"); shards != nullptr && *shards) {
    options.argv.push_back(absl::StrCat("--worker-threads=", shards));
  }
  options.argv.insert(options.argv.end(), extra_flags_.begin(), extra_flags_.end());
  options.log_path = dir_->File("nsqd.log");
  options.max_file_size_bytes = launch_.max_file_size_bytes;
  options.echo_to_stderr = EchoRequested();
  ++launches_;
  options.echo_prefix = absl::StrCat("  nsqd#", launches_, "| ");

  process_.reset();
  stopped_on_purpose_ = false;
  auto process = Process::Start(std::move(options));
  if (!process.ok()) return process.status();
  process_ = std::move(*process);

  auto tcp = WaitForListeningPort(*process_, "TCP");
  if (!tcp.ok()) return tcp.status();
  auto http = WaitForListeningPort(*process_, "HTTP");
  if (!http.ok()) return http.status();
  tcp_port_ = *tcp;
  http_port_ = *http;
  return absl::OkStatus();
}

TestNsqd::~TestNsqd() {
  if (process_ == nullptr) return;
  // A process that ended badly without being asked to is a crash worth showing.
  std::optional<ExitStatus> ended = process_->Wait(std::chrono::milliseconds(0));
  const bool clean_exit = ended.has_value() && ended->exited() && ended->exit_code == 0;
  if (ended.has_value() && !stopped_on_purpose_ && !clean_exit) {
    std::cerr << "TestNsqd: nsqd ended on its own (" << ended->ToString()
              << "); last lines of its log:\n"
              << process_->Tail(30);
  }
  process_->Kill();
}

absl::StatusOr<int> TestNsqd::Stop(std::chrono::milliseconds deadline) {
  stopped_on_purpose_ = true;
  if (process_ == nullptr) return absl::FailedPreconditionError("nsqd is not running");
  process_->Signal(SIGTERM);
  std::optional<ExitStatus> status = process_->Wait(deadline);
  if (!status.has_value()) {
    process_->Kill();
    return absl::DeadlineExceededError(absl::StrCat("nsqd did not exit within ", deadline.count(),
                                                    " ms of SIGTERM; log tail:\n",
                                                    process_->Tail(20)));
  }
  if (!status->exited()) {
    return absl::InternalError(absl::StrCat("nsqd ", status->ToString(), " after SIGTERM"));
  }
  return status->exit_code;
}

void TestNsqd::Kill9() {
  stopped_on_purpose_ = true;
  if (process_ != nullptr) process_->Kill();
}

absl::Status TestNsqd::Restart() { return Restart({}); }

absl::Status TestNsqd::Restart(std::vector<std::string> more_flags) {
  if (process_ != nullptr && process_->Running()) {
    absl::StatusOr<int> code = Stop();
    if (!code.ok()) return code.status();
  }
  extra_flags_.insert(extra_flags_.end(), more_flags.begin(), more_flags.end());
  return Launch();
}

}  // namespace nsq::testutil
