#include "nsq/config.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/src/log.h"

namespace nsq::client {

namespace {

using std::chrono::milliseconds;
constexpr milliseconds kMinute{60 * 1000};

std::string LocalHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// "5m0s"-style text is Go's; milliseconds read just as well in an error message.
std::string Ms(milliseconds d) { return absl::StrCat(d.count(), "ms"); }

absl::Status CheckRange(const char* name, milliseconds value, milliseconds min, milliseconds max) {
  if (value >= min && value <= max) return absl::OkStatus();
  if (max == milliseconds::max()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s = %s is out of range (must be >= %s)", name, Ms(value), Ms(min)));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("%s = %s is out of range [%s, %s]", name, Ms(value), Ms(min), Ms(max)));
}

absl::Status CheckRange(const char* name, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s = %d is out of range [%d, %d]", name, value, min, max));
}

}  // namespace

const char* Version() { return NSQ_CLIENT_VERSION; }

Config::Config() {
  hostname = LocalHostname();
  client_id = hostname.substr(0, hostname.find('.'));
  user_agent = absl::StrCat("nsq-cpp/", NSQ_CLIENT_VERSION);
}

absl::Status Config::Validate() const {
  const milliseconds kMax = milliseconds::max();
  absl::Status checks[] = {
      CheckRange("dial_timeout", dial_timeout, milliseconds(1), kMax),
      CheckRange("read_timeout", read_timeout, milliseconds(100), 5 * kMinute),
      CheckRange("write_timeout", write_timeout, milliseconds(100), 5 * kMinute),
      CheckRange("lookupd_poll_interval", lookupd_poll_interval, milliseconds(10), 5 * kMinute),
      CheckRange("max_requeue_delay", max_requeue_delay, milliseconds(0), 60 * kMinute),
      CheckRange("default_requeue_delay", default_requeue_delay, milliseconds(0), 60 * kMinute),
      CheckRange("backoff_multiplier", backoff_multiplier, milliseconds(0), 60 * kMinute),
      CheckRange("max_backoff_duration", max_backoff_duration, milliseconds(0), 60 * kMinute),
      CheckRange("max_attempts", max_attempts, 0, 65535),
      CheckRange("max_in_flight", max_in_flight, 0, 1 << 30),
      CheckRange("rdy_redistribute_interval", rdy_redistribute_interval, milliseconds(1),
                 milliseconds(5000)),
      CheckRange("low_rdy_idle_timeout", low_rdy_idle_timeout, milliseconds(1000), 5 * kMinute),
      CheckRange("output_buffer_size", output_buffer_size, -1, 1 << 30),
      CheckRange("output_buffer_timeout", output_buffer_timeout, milliseconds(-1), kMax),
      CheckRange("msg_timeout", msg_timeout, milliseconds(0), kMax),
      CheckRange("sample_rate", sample_rate, 0, 99),
      CheckRange("deflate_level", deflate_level, 1, 9),
      CheckRange("max_outstanding_messages", max_outstanding_messages, 1, int64_t{1} << 40),
      CheckRange("max_outstanding_bytes", max_outstanding_bytes, 1, int64_t{1} << 50),
      CheckRange("reconnect_min_backoff", reconnect_min_backoff, milliseconds(1), 60 * kMinute),
      CheckRange("reconnect_max_backoff", reconnect_max_backoff, reconnect_min_backoff,
                 60 * kMinute),
      CheckRange("drain_timeout", drain_timeout, milliseconds(0), 60 * kMinute),
  };
  for (const absl::Status& status : checks) {
    if (!status.ok()) return status;
  }
  if (!(lookupd_poll_jitter >= 0 && lookupd_poll_jitter <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("lookupd_poll_jitter = %g is out of range [0, 1]", lookupd_poll_jitter));
  }
  if (heartbeat_interval != milliseconds(-1) && heartbeat_interval < milliseconds(1000)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("heartbeat_interval = %s is invalid (-1 disables, else >= 1000ms)",
                        Ms(heartbeat_interval)));
  }
  if (heartbeat_interval >= read_timeout) {
    return absl::InvalidArgumentError(
        absl::StrFormat("heartbeat_interval (%s) must be less than read_timeout (%s)",
                        Ms(heartbeat_interval), Ms(read_timeout)));
  }
  if (snappy && deflate) {
    return absl::InvalidArgumentError("snappy and deflate cannot both be enabled");
  }
  const std::string& v = tls_config.min_version;
  if (v != "tls1.0" && v != "tls1.1" && v != "tls1.2" && v != "tls1.3") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tls_config.min_version = \"%s\" is invalid (tls1.0, tls1.1, tls1.2 or tls1.3)", v));
  }
  if (tls_config.cert_file.empty() != tls_config.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_config.cert_file and tls_config.key_file must be set together");
  }
  return absl::OkStatus();
}

namespace internal {

void Log(const Config& config, LogLevel level, const std::string& line) {
  if (config.logger) {
    config.logger(level, line);
    return;
  }
  const char* name = level == LogLevel::kDebug     ? "DBG"
                     : level == LogLevel::kInfo    ? "INF"
                     : level == LogLevel::kWarning ? "WRN"
                                                   : "ERR";
  // One fprintf per line so lines of different threads do not interleave.
  std::fprintf(stderr, "%s nsq-client: %s\n", name, line.c_str());
}

}  // namespace internal

}  // namespace nsq::client
