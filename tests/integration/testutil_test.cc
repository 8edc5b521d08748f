// The test utilities themselves (tests/testutil): a harness bug must show up here, not as a
// mysterious broker failure.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <string>

#include "tests/integration/integration_util.h"
#include "tests/testutil/listening_socket.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"

namespace nsq::testutil {
namespace {

using Clock = std::chrono::steady_clock;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

TEST_CASE("TempDir creates a directory and removes it with its contents") {
  std::string path;
  {
    TempDir dir("testutil");
    path = dir.path();
    CHECK(Exists(path));
    CHECK(path.rfind("/tmp/testutil-", 0) == 0);
    FILE* f = std::fopen(dir.File("inner").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
  }
  CHECK(!Exists(path));
}

TEST_CASE("WaitFor returns as soon as the predicate holds, and false at the deadline") {
  const auto start = Clock::now();
  CHECK(WaitFor([] { return true; }, 5s));
  CHECK(Clock::now() - start < 1s);
  int calls = 0;
  CHECK(WaitFor([&] { return ++calls == 5; }, 5s));
  const auto before = Clock::now();
  CHECK(!WaitFor([] { return false; }, 100ms));
  CHECK(Clock::now() - before >= 100ms);
}

TEST_CASE("Process captures stdout and stderr lines and reports the exit code") {
  Process::Options options;
  options.argv = {"/bin/sh", "-c", "echo out line; echo err line >&2; printf partial; exit 3"};
  options.extra_env = {"NSQ_TESTUTIL_CHECK=1"};
  auto process = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(process);
  CHECK((*process)->WaitForOutput("out line", 5s) == "out line");
  CHECK((*process)->WaitForOutput(std::regex("^err l.ne$"), 5s) == "err line");
  std::optional<ExitStatus> status = (*process)->Wait(5s);
  REQUIRE(status.has_value());
  CHECK(status->exited());
  CHECK(status->exit_code == 3);
  CHECK((*process)->WaitForOutputEnd(5s));
  CHECK((*process)->WaitForOutput("partial", 0ms) == "partial");  // an unterminated last line
  // Once the output has ended, a missing line is reported at once, not at the deadline.
  const auto start = Clock::now();
  CHECK(!(*process)->WaitForOutput("never printed", 10s).has_value());
  CHECK(Clock::now() - start < 5s);
}

TEST_CASE("Process passes extra environment variables to the child") {
  Process::Options options;
  options.argv = {"/bin/sh", "-c", "echo value=$NSQ_TESTUTIL_VALUE"};
  options.extra_env = {"NSQ_TESTUTIL_VALUE=42"};
  auto process = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(process);
  CHECK((*process)->WaitForOutput("value=", 5s) == "value=42");
}

TEST_CASE("Process signals, kills and reaps a child") {
  Process::Options options;
  options.argv = {"/bin/sleep", "30"};
  auto sleeper = Process::Start(options);
  NSQ_REQUIRE_OK(sleeper);
  CHECK((*sleeper)->Running());
  CHECK(!(*sleeper)->Wait(50ms).has_value());
  REQUIRE((*sleeper)->Signal(SIGTERM));
  std::optional<ExitStatus> status = (*sleeper)->Wait(5s);
  REQUIRE(status.has_value());
  CHECK(status->signal == SIGTERM);
  CHECK(!(*sleeper)->Running());

  auto killed = Process::Start(options);
  NSQ_REQUIRE_OK(killed);
  CHECK((*killed)->Kill().signal == SIGKILL);
}

TEST_CASE("Process::Start fails for a program that cannot be executed") {
  Process::Options options;
  options.argv = {"/nonexistent/program"};
  auto process = Process::Start(std::move(options));
  CHECK(absl::IsNotFound(process.status()));
}

TEST_CASE("RawConn times out on a silent peer and notices a close") {
  ListeningSocket listener;  // accepts in the backlog, never answers
  auto conn = RawConn::Connect(listener.port());
  NSQ_REQUIRE_OK(conn);
  NSQ_CHECK_OK((*conn)->ExpectNoFrame(100ms));
  CHECK(absl::IsDeadlineExceeded((*conn)->ReadFrame(50ms).status()));
  CHECK(!(*conn)->IsClosedByPeer(50ms));
}

TEST_CASE("ParseHttpResponse handles Content-Length, chunked and close-delimited bodies") {
  absl::StatusOr<HttpResponse> r = ParseHttpResponse(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-NSQ-Content-Type: nsq; version=1.0\r\n\r\nOK");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->reason == "OK");
  CHECK(r->body == "OK");
  CHECK(r->Header("x-nsq-content-type") == "nsq; version=1.0");
  CHECK(!r->Header("Content-Type").has_value());

  r = ParseHttpResponse(
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"mes\r\n12\r\nsage\":\"NOT_FOUND\"}\r\n0\r\n\r\n");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 404);
  CHECK(r->body == "{\"message\":\"NOT_FOUND\"}");

  r = ParseHttpResponse("HTTP/1.0 400 Bad Request\r\n\r\nuntil close");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 400);
  CHECK(r->body == "until close");

  CHECK(!ParseHttpResponse("SSH-2.0-OpenSSH\r\n\r\n").ok());
  CHECK(!ParseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").ok());
}

}  // namespace
}  // namespace nsq::testutil
