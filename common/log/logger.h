// Logging in NSQ's format, to stderr:
//   [nsqd] 2026/11/25 12:00:00.000000 INFO: TCP: listening on 127.0.0.1:4150
//
//   nsq::log::Init("[nsqd] ", nsq::log::Level::kInfo);
//   NSQ_LOG_INFO("TCP: listening on %s", address);
//
// Thread-safe: the level may change at any time (PUT /config/log_level) and each line is written
// with one write(2), so lines from different threads never interleave.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace nsq::log {

// NSQ's levels; the numbers are what GET /config/log_level reports.
enum class Level { kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kFatal = 5 };

// Parses debug|info|warn|error|fatal (case-insensitive). False when unknown.
bool ParseLevel(std::string_view text, Level* out);
// The name printed in a line, as NSQ prints it: "DEBUG", "INFO", "WARNING", "ERROR", "FATAL".
std::string_view LevelName(Level level);

// Sets the prefix and the level; call once at startup, before other threads log. Until then the
// prefix is empty and the level is info.
void Init(std::string prefix, Level level);
void SetLevel(Level level);
Level CurrentLevel();
inline bool Enabled(Level level) {
  return static_cast<int>(level) >= static_cast<int>(CurrentLevel());
}

// Where lines go instead of stderr while set (a tool's terminal display prints them above its
// live block); called with each complete line, newline included, one call at a time. An empty
// sink restores stderr.
using Sink = std::function<void(std::string_view line)>;
void SetSink(Sink sink);

// Writes one line: prefix, local timestamp, level, message. Fatal does not exit; the caller
// decides what happens next.
void Write(Level level, std::string_view message);

// The line Write would print at `when` in `zone`, newline included (one is added unless the
// message already ends with one, as Go's log package does). Exposed for tests.
std::string FormatLine(std::string_view prefix, absl::Time when, absl::TimeZone zone, Level level,
                       std::string_view message);

// For co_spawn's completion handler: logs the exception that ended a coroutine, as "<task>
// failed: <what>", instead of letting it escape the event loop. Nothing when `error` is null.
void LogIfFailed(std::exception_ptr error, std::string_view task);

}  // namespace nsq::log

#define NSQ_LOG_AT(level, ...)                                                                \
  do {                                                                                        \
    if (::nsq::log::Enabled(level)) ::nsq::log::Write(level, ::absl::StrFormat(__VA_ARGS__)); \
  } while (0)
#define NSQ_LOG_DEBUG(...) NSQ_LOG_AT(::nsq::log::Level::kDebug, __VA_ARGS__)
#define NSQ_LOG_INFO(...) NSQ_LOG_AT(::nsq::log::Level::kInfo, __VA_ARGS__)
#define NSQ_LOG_WARN(...) NSQ_LOG_AT(::nsq::log::Level::kWarn, __VA_ARGS__)
#define NSQ_LOG_ERROR(...) NSQ_LOG_AT(::nsq::log::Level::kError, __VA_ARGS__)
#define NSQ_LOG_FATAL(...) NSQ_LOG_AT(::nsq::log::Level::kFatal, __VA_ARGS__)
