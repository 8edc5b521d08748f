#include "tests/testutil/test_lookupd.h"

#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#ifndef NSQLOOKUPD_BINARY
#define NSQLOOKUPD_BINARY "nsqlookupd"
#endif

namespace nsq::testutil {
namespace {

constexpr std::chrono::seconds kStartupDeadline(15);


// The port of the "<what>: listening on 127.0.0.1:41234" line.
absl::StatusOr<uint16_t> ListeningPort(Process& process, const char* what) {
  std::regex pattern(std::string("(^|[^A-Z])") + what + ": listening on \\S*:([0-9]+)");
  std::optional<std::string> line = process.WaitForOutput(pattern, kStartupDeadline);
  if (!line.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat("nsqlookupd did not log \"", what,
                                                    ": listening on ...\"; its output:\n",
                                                    process.Tail(40)));
  }
  std::smatch match;
  std::regex_search(*line, match, pattern);
  uint32_t port = 0;
  if (!absl::SimpleAtoi(match[2].str(), &port) || port == 0 || port > 65535) {
    return absl::InternalError(absl::StrCat("bad port in nsqlookupd line: ", *line));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

std::string TestLookupd::BinaryPath() {
  const char* env = std::getenv("NSQLOOKUPD_BINARY");
  if (env != nullptr && *env != '\0') return env;
  return NSQLOOKUPD_BINARY;
}

absl::StatusOr<std::unique_ptr<TestLookupd>> TestLookupd::Start(
    std::vector<std::string> extra_flags) {
  std::unique_ptr<TestLookupd> lookupd(new TestLookupd());
  lookupd->dir_ = std::make_unique<TempDir>("nsqlookupd-test");
  lookupd->extra_flags_ = std::move(extra_flags);
  absl::Status status = lookupd->Launch(0, 0);
  if (!status.ok()) return status;
  return lookupd;
}

std::string TestLookupd::tcp_address() const { return absl::StrCat("127.0.0.1:", tcp_port_); }

absl::Status TestLookupd::Launch(uint16_t tcp_port, uint16_t http_port) {
  Process::Options options;
  options.argv = {BinaryPath(), absl::StrCat("--tcp-address=127.0.0.1:", tcp_port),
                  absl::StrCat("--http-address=127.0.0.1:", http_port)};
  options.argv.insert(options.argv.end(), extra_flags_.begin(), extra_flags_.end());
  options.log_path = dir_->File("nsqlookupd.log");
  options.echo_to_stderr = EchoRequested();
  ++launches_;
  options.echo_prefix = absl::StrCat("  nsqlookupd#", launches_, "| ");

  process_.reset();
  stopped_on_purpose_ = false;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(std::move(options));
  if (!process.ok()) return process.status();
  process_ = std::move(*process);

  absl::StatusOr<uint16_t> tcp = ListeningPort(*process_, "TCP");
  if (!tcp.ok()) return tcp.status();
  absl::StatusOr<uint16_t> http = ListeningPort(*process_, "HTTP");
  if (!http.ok()) return http.status();
  tcp_port_ = *tcp;
  http_port_ = *http;
  return absl::OkStatus();
}

TestLookupd::~TestLookupd() {
  if (process_ == nullptr) return;
  std::optional<ExitStatus> ended = process_->Wait(std::chrono::milliseconds(0));
  const bool clean_exit = ended.has_value() && ended->exited() && ended->exit_code == 0;
  if (ended.has_value() && !stopped_on_purpose_ && !clean_exit) {
    std::cerr << "TestLookupd: nsqlookupd ended on its own (" << ended->ToString()
              << "); last lines of its log:\n"
              << process_->Tail(30);
  }
  process_->Kill();
}

absl::StatusOr<int> TestLookupd::Stop(std::chrono::milliseconds deadline) {
  stopped_on_purpose_ = true;
  if (process_ == nullptr) return absl::FailedPreconditionError("nsqlookupd is not running");
  process_->Signal(SIGTERM);
  std::optional<ExitStatus> status = process_->Wait(deadline);
  if (!status.has_value()) {
    process_->Kill();
    return absl::DeadlineExceededError(absl::StrCat("nsqlookupd did not exit within ",
                                                    deadline.count(), " ms of SIGTERM; log tail:\n",
                                                    process_->Tail(20)));
  }
  if (!status->exited()) {
    return absl::InternalError(absl::StrCat("nsqlookupd ", status->ToString(), " after SIGTERM"));
  }
  return status->exit_code;
}

void TestLookupd::Kill9() {
  stopped_on_purpose_ = true;
  if (process_ != nullptr) process_->Kill();
}

absl::Status TestLookupd::Restart() {
  if (process_ != nullptr && process_->Running()) {
    absl::StatusOr<int> code = Stop();
    if (!code.ok()) return code.status();
  }
  return Launch(tcp_port_, http_port_);
}

}  // namespace nsq::testutil
