#include "common/log/logger.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"

namespace nsq::log {
namespace {

// Sends fd 2 into a pipe for the lifetime of the object; Drain() restores stderr and returns
// everything written meanwhile.
class CapturedStderr {
 public:
  CapturedStderr() {
    REQUIRE(::pipe(fds_) == 0);
    saved_ = ::dup(STDERR_FILENO);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(fds_[1], STDERR_FILENO) >= 0);
    ::close(fds_[1]);
  }
  ~CapturedStderr() { Restore(); }

  std::string Drain() {
    Restore();
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buffer, sizeof(buffer))) > 0) out.append(buffer, n);
    return out;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);  // drops the last write end, so read() sees EOF
    ::close(saved_);
    saved_ = -1;
  }

  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

absl::Time FixedTime() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 25, 12, 0, 0), absl::UTCTimeZone()) +
         absl::Microseconds(123456);
}

TEST_CASE("A log line has NSQ's layout: prefix, date, time with microseconds, level, message") {
  CHECK(FormatLine("[nsqd] ", FixedTime(), absl::UTCTimeZone(), Level::kInfo,
                   "TCP: listening on 127.0.0.1:4150") ==
        "[nsqd] 2026/11/25 12:00:00.123456 INFO: TCP: listening on 127.0.0.1:4150\n");
}

TEST_CASE("A log line is in the given time zone and pads every field") {
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone());
  CHECK(FormatLine("", t, absl::FixedTimeZone(2 * 3600), Level::kWarn, "x") ==
        "2026/01/02 05:04:05.000000 WARNING: x\n");
}

TEST_CASE("A message that already ends with a newline does not get a second one") {
  CHECK(FormatLine("[p] ", FixedTime(), absl::UTCTimeZone(), Level::kError, "boom\n") ==
        "[p] 2026/11/25 12:00:00.123456 ERROR: boom\n");
}

TEST_CASE("Level names are NSQ's and every level parses from its flag spelling") {
  CHECK(LevelName(Level::kDebug) == "DEBUG");
  CHECK(LevelName(Level::kInfo) == "INFO");
  CHECK(LevelName(Level::kWarn) == "WARNING");
  CHECK(LevelName(Level::kError) == "ERROR");
  CHECK(LevelName(Level::kFatal) == "FATAL");

  Level level = Level::kInfo;
  CHECK(ParseLevel("debug", &level));
  CHECK(level == Level::kDebug);
  CHECK(ParseLevel("WARN", &level));
  CHECK(level == Level::kWarn);
  CHECK(ParseLevel("Fatal", &level));
  CHECK(level == Level::kFatal);
  CHECK_FALSE(ParseLevel("warning", &level));
  CHECK_FALSE(ParseLevel("", &level));
  CHECK(level == Level::kFatal);  // untouched on failure
}

TEST_CASE("Messages below the current level are not enabled") {
  SetLevel(Level::kWarn);
  CHECK_FALSE(Enabled(Level::kInfo));
  CHECK(Enabled(Level::kWarn));
  CHECK(Enabled(Level::kFatal));
  SetLevel(Level::kDebug);
  CHECK(Enabled(Level::kDebug));
  SetLevel(Level::kInfo);
}

TEST_CASE("The log macros write formatted lines to stderr and skip disabled levels") {
  Init("[test] ", Level::kInfo);
  CapturedStderr captured;
  NSQ_LOG_INFO("hello %s %d", "world", 42);
  NSQ_LOG_DEBUG("not shown");
  std::string out = captured.Drain();
  Init("", Level::kInfo);

  CHECK(out.rfind("[test] ", 0) == 0);
  CHECK(out.find(" INFO: hello world 42\n") != std::string::npos);
  CHECK(out.find("not shown") == std::string::npos);
  // "[test] " + "YYYY/MM/DD HH:MM:SS.uuuuuu " is 7 + 27 characters.
  REQUIRE(out.size() > 34);
  CHECK(out[7 + 4] == '/');
  CHECK(out[7 + 19] == '.');
}

TEST_CASE("Lines logged from many threads at once never interleave") {
  Init("[mt] ", Level::kInfo);
  constexpr int kThreads = 4;
  constexpr int kLines = 50;
  CapturedStderr captured;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) NSQ_LOG_INFO("thread %d line %d end", t, i);
    });
  }
  for (auto& thread : threads) thread.join();
  std::string out = captured.Drain();
  Init("", Level::kInfo);

  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  CHECK(lines.size() == kThreads * kLines);
  for (const std::string& line : lines) {
    CHECK(line.rfind("[mt] ", 0) == 0);
    CHECK(line.size() > 4);
    CHECK(line.substr(line.size() - 4) == " end");
  }
}

}  // namespace
}  // namespace nsq::log
