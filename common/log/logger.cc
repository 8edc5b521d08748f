#include "common/log/logger.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"

namespace nsq::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

// The prefix is written once at startup but read on every line; a mutex keeps a late Init (tests)
// from racing with a logging thread, at a cost nobody notices next to the write(2).
std::mutex g_prefix_mutex;
std::string& Prefix() {
  static std::string* prefix = new std::string();
  return *prefix;
}

std::mutex g_sink_mutex;
Sink& CurrentSink() {
  static Sink* sink = new Sink();
  return *sink;
}

}  // namespace

void SetSink(Sink sink) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  CurrentSink() = std::move(sink);
}

bool ParseLevel(std::string_view text, Level* out) {
  std::string lower = absl::AsciiStrToLower(std::string(text));
  if (lower == "debug") {
    *out = Level::kDebug;
  } else if (lower == "info") {
    *out = Level::kInfo;
  } else if (lower == "warn") {
    *out = Level::kWarn;
  } else if (lower == "error") {
    *out = Level::kError;
  } else if (lower == "fatal") {
    *out = Level::kFatal;
  } else {
    return false;
  }
  return true;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARNING";
    case Level::kError:
      return "ERROR";
    case Level::kFatal:
      return "FATAL";
  }
  return "UNKNOWN";
}

void Init(std::string prefix, Level level) {
  {
    std::lock_guard<std::mutex> lock(g_prefix_mutex);
    Prefix() = std::move(prefix);
  }
  SetLevel(level);
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

Level CurrentLevel() { return static_cast<Level>(g_level.load(std::memory_order_relaxed)); }

std::string FormatLine(std::string_view prefix, absl::Time when, absl::TimeZone zone, Level level,
                       std::string_view message) {
  // Go's log flags Ldate|Ltime|Lmicroseconds: 2006/01/02 15:04:05.000000.
  std::string line(prefix);
  line += absl::FormatTime("%Y/%m/%d %H:%M:%E6S ", when, zone);
  line += LevelName(level);
  line += ": ";
  line += message;
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  return line;
}

void Write(Level level, std::string_view message) {
  std::string prefix;
  {
    std::lock_guard<std::mutex> lock(g_prefix_mutex);
    prefix = Prefix();
  }
  std::string line = FormatLine(prefix, absl::Now(), absl::LocalTimeZone(), level, message);
  {
    std::lock_guard<std::mutex> lock(g_sink_mutex);
    if (CurrentSink()) {
      CurrentSink()(line);
      return;
    }
  }
  // One write(2) for the whole line; the loop only matters for a short write or a signal.
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failing stderr.
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

void LogIfFailed(std::exception_ptr error, std::string_view task) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    NSQ_LOG_ERROR("%s failed: %s", task, e.what());
  } catch (...) {
    NSQ_LOG_ERROR("%s failed", task);
  }
}

}  // namespace nsq::log
