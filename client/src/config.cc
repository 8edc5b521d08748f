#include "nsq/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/src/log.h"

namespace nsq::client {

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
constexpr milliseconds kMinute{60 * 1000};
constexpr milliseconds kNoMax = milliseconds::max();

std::string LocalHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

// "5m0s"-style text is Go's; milliseconds read just as well in an error message.
std::string Ms(milliseconds d) { return absl::StrCat(d.count(), "ms"); }

absl::Status CheckRange(const char* name, milliseconds value, milliseconds min, milliseconds max) {
  if (value >= min && value <= max) return absl::OkStatus();
  if (max == kNoMax) {
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

// ---------------------------------------------------------------- values as go-nsq coerces them

// A value given to Set(), before it is coerced to the option's type.
struct Value {
  enum class Kind { kString, kBool, kInt, kDouble, kDuration };
  Kind kind = Kind::kString;
  std::string_view text;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  nanoseconds ns{0};

  std::string Describe() const {
    switch (kind) {
      case Kind::kString:
        return absl::StrFormat("\"%s\"", text);
      case Kind::kBool:
        return b ? "true" : "false";
      case Kind::kInt:
        return absl::StrCat(i);
      case Kind::kDouble:
        return absl::StrCat(d);
      case Kind::kDuration:
        return absl::StrCat(ns.count(), "ns");
    }
    return "?";
  }
};

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(copy.c_str(), &end, 10);
  if (errno != 0 || end != copy.c_str() + copy.size()) return false;
  *out = v;
  return true;
}

bool ParseDouble(std::string_view text, double* out) {
  if (text.empty() || text.size() > 64) return false;
  const std::string copy(text);
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// Go's time.ParseDuration: an optional sign, then one or more decimal numbers (with an optional
// fraction) each followed by a unit: ns, us (µs, μs), ms, s, m, h. "0" alone needs no unit.
bool ParseGoDuration(std::string_view text, nanoseconds* out) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *out = nanoseconds(0);
    return true;
  }
  if (s.empty()) return false;
  long double total = 0;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() && ((s[digits] >= '0' && s[digits] <= '9') || s[digits] == '.')) {
      ++digits;
    }
    const std::string_view number = s.substr(0, digits);
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return false;
    s.remove_prefix(digits);
    size_t unit_length = 0;
    while (unit_length < s.size() && !(s[unit_length] >= '0' && s[unit_length] <= '9') &&
           s[unit_length] != '.') {
      ++unit_length;
    }
    const std::string_view unit = s.substr(0, unit_length);
    s.remove_prefix(unit_length);
    long double scale = 0;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else {
      return false;  // missing or unknown unit
    }
    total += std::strtold(std::string(number).c_str(), nullptr) * scale;
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return false;
  }
  *out = nanoseconds(static_cast<int64_t>(negative ? -total : total));
  return true;
}

absl::Status CannotCoerce(const char* option, const Value& value, const char* expected) {
  return absl::InvalidArgumentError(absl::StrFormat("option %s: cannot use %s as %s", option,
                                                    value.Describe(), expected));
}

absl::StatusOr<milliseconds> ToDuration(const char* option, const Value& value) {
  switch (value.kind) {
    case Value::Kind::kDuration:
      return std::chrono::duration_cast<milliseconds>(value.ns);
    case Value::Kind::kInt:  // go-nsq: an integer is milliseconds
      return milliseconds(value.i);
    case Value::Kind::kString: {
      nanoseconds parsed;
      if (ParseGoDuration(value.text, &parsed)) {
        return std::chrono::duration_cast<milliseconds>(parsed);
      }
      break;
    }
    default:
      break;
  }
  return CannotCoerce(option, value, "a duration (a Go duration such as \"60s\" or \"250ms\")");
}

absl::StatusOr<int64_t> ToInt(const char* option, const Value& value) {
  if (value.kind == Value::Kind::kInt) return value.i;
  int64_t parsed = 0;
  if (value.kind == Value::Kind::kString && ParseInt(value.text, &parsed)) return parsed;
  return CannotCoerce(option, value, "an integer");
}

absl::StatusOr<double> ToDouble(const char* option, const Value& value) {
  if (value.kind == Value::Kind::kDouble) return value.d;
  if (value.kind == Value::Kind::kInt) return static_cast<double>(value.i);
  double parsed = 0;
  if (value.kind == Value::Kind::kString && ParseDouble(value.text, &parsed)) return parsed;
  return CannotCoerce(option, value, "a number");
}

absl::StatusOr<bool> ToBool(const char* option, const Value& value) {
  if (value.kind == Value::Kind::kBool) return value.b;
  if (value.kind == Value::Kind::kInt) return value.i != 0;
  if (value.kind == Value::Kind::kString) {
    // strconv.ParseBool
    for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
      if (value.text == yes) return true;
    }
    for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
      if (value.text == no) return false;
    }
  }
  return CannotCoerce(option, value, "a bool (true, false, 1, 0, t, f)");
}

absl::StatusOr<std::string> ToString(const char* option, const Value& value) {
  switch (value.kind) {
    case Value::Kind::kString:
      return std::string(value.text);
    case Value::Kind::kInt:
      return absl::StrCat(value.i);
    case Value::Kind::kDouble:
      return absl::StrFormat("%f", value.d);  // as go-nsq's coerceString
    default:
      return CannotCoerce(option, value, "a string");
  }
}

// "ip" or "ip:port" ("[v6]:port"); empty is fine.
absl::Status CheckLocalAddr(const std::string& address) {
  if (address.empty()) return absl::OkStatus();
  std::string host = address;
  const size_t colon = address.rfind(':');
  const bool bracketed = !address.empty() && address.front() == '[';
  if (bracketed) {
    const size_t close = address.find(']');
    host = close == std::string::npos ? "" : address.substr(1, close - 1);
  } else if (colon != std::string::npos && address.find(':') == colon) {
    host = address.substr(0, colon);  // v4:port
  }
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "local_addr = \"%s\" is not an IP address (\"ip\" or \"ip:port\")", address));
}

// ---------------------------------------------------------------- the option table

// One option: how Set() assigns it (coercion only) and how Validate() checks it.
struct Option {
  const char* name;
  std::function<absl::Status(Config&, const Value&)> set;
  std::function<absl::Status(const Config&)> check;  // may be empty
};

Option DurationOption(const char* name, milliseconds Config::*field, milliseconds min,
                      milliseconds max) {
  return {name,
          [name, field](Config& c, const Value& v) -> absl::Status {
            absl::StatusOr<milliseconds> d = ToDuration(name, v);
            if (!d.ok()) return d.status();
            c.*field = *d;
            return absl::OkStatus();
          },
          [name, field, min, max](const Config& c) { return CheckRange(name, c.*field, min, max); }};
}

template <typename T>
Option IntOption(const char* name, T Config::*field, int64_t min, int64_t max) {
  return {name,
          [name, field, min, max](Config& c, const Value& v) -> absl::Status {
            absl::StatusOr<int64_t> i = ToInt(name, v);
            if (!i.ok()) return i.status();
            // Checked before the assignment narrows it.
            if (absl::Status range = CheckRange(name, *i, min, max); !range.ok()) return range;
            c.*field = static_cast<T>(*i);
            return absl::OkStatus();
          },
          [name, field, min, max](const Config& c) {
            return CheckRange(name, static_cast<int64_t>(c.*field), min, max);
          }};
}

Option BoolOption(const char* name, bool Config::*field) {
  return {name,
          [name, field](Config& c, const Value& v) -> absl::Status {
            absl::StatusOr<bool> b = ToBool(name, v);
            if (!b.ok()) return b.status();
            c.*field = *b;
            return absl::OkStatus();
          },
          nullptr};
}

Option StringOption(const char* name, std::string Config::*field) {
  return {name,
          [name, field](Config& c, const Value& v) -> absl::Status {
            absl::StatusOr<std::string> s = ToString(name, v);
            if (!s.ok()) return s.status();
            c.*field = *std::move(s);
            return absl::OkStatus();
          },
          nullptr};
}

// `option` with another Validate() check.
Option Checked(Option option, std::function<absl::Status(const Config&)> check) {
  option.check = std::move(check);
  return option;
}

// A string-valued setting of tls_config.
Option TlsStringOption(const char* name, std::string Config::TlsConfig::*field) {
  return {name,
          [name, field](Config& c, const Value& v) -> absl::Status {
            absl::StatusOr<std::string> s = ToString(name, v);
            if (!s.ok()) return s.status();
            c.tls_config.*field = *std::move(s);
            return absl::OkStatus();
          },
          nullptr};
}

const std::vector<Option>& Options() {
  static const std::vector<Option>* const options = new std::vector<Option>{
      // go-nsq's, in its order.
      DurationOption("dial_timeout", &Config::dial_timeout, milliseconds(1), kNoMax),
      DurationOption("read_timeout", &Config::read_timeout, milliseconds(100), 5 * kMinute),
      DurationOption("write_timeout", &Config::write_timeout, milliseconds(100), 5 * kMinute),
      Checked(StringOption("local_addr", &Config::local_addr),
              [](const Config& c) { return CheckLocalAddr(c.local_addr); }),
      DurationOption("lookupd_poll_interval", &Config::lookupd_poll_interval, milliseconds(10),
                     5 * kMinute),
      {"lookupd_poll_jitter",
       [](Config& c, const Value& v) -> absl::Status {
         absl::StatusOr<double> d = ToDouble("lookupd_poll_jitter", v);
         if (!d.ok()) return d.status();
         c.lookupd_poll_jitter = *d;
         return absl::OkStatus();
       },
       [](const Config& c) -> absl::Status {
         if (c.lookupd_poll_jitter >= 0 && c.lookupd_poll_jitter <= 1) return absl::OkStatus();
         return absl::InvalidArgumentError(absl::StrFormat(
             "lookupd_poll_jitter = %g is out of range [0, 1]", c.lookupd_poll_jitter));
       }},
      DurationOption("max_requeue_delay", &Config::max_requeue_delay, milliseconds(0),
                     60 * kMinute),
      DurationOption("default_requeue_delay", &Config::default_requeue_delay, milliseconds(0),
                     60 * kMinute),
      {"backoff_strategy",
       [](Config& c, const Value& v) -> absl::Status {
         if (v.kind == Value::Kind::kString && v.text == "exponential") {
           c.backoff_strategy = BackoffStrategy::kExponential;
         } else if (v.kind == Value::Kind::kString && v.text == "full_jitter") {
           c.backoff_strategy = BackoffStrategy::kFullJitter;
         } else {
           return CannotCoerce("backoff_strategy", v, "\"exponential\" or \"full_jitter\"");
         }
         return absl::OkStatus();
       },
       nullptr},
      DurationOption("max_backoff_duration", &Config::max_backoff_duration, milliseconds(0),
                     60 * kMinute),
      DurationOption("backoff_multiplier", &Config::backoff_multiplier, milliseconds(0),
                     60 * kMinute),
      IntOption("max_attempts", &Config::max_attempts, 0, 65535),
      DurationOption("low_rdy_idle_timeout", &Config::low_rdy_idle_timeout, milliseconds(1000),
                     5 * kMinute),
      DurationOption("low_rdy_timeout", &Config::low_rdy_timeout, milliseconds(1000),
                     5 * kMinute),
      DurationOption("rdy_redistribute_interval", &Config::rdy_redistribute_interval,
                     milliseconds(1), milliseconds(5000)),
      StringOption("client_id", &Config::client_id),
      StringOption("hostname", &Config::hostname),
      StringOption("user_agent", &Config::user_agent),
      Checked(
          DurationOption("heartbeat_interval", &Config::heartbeat_interval, milliseconds(-1),
                         kNoMax),
          [](const Config& c) -> absl::Status {
            if (c.heartbeat_interval == milliseconds(-1) ||
                c.heartbeat_interval >= milliseconds(1000)) {
              return absl::OkStatus();
            }
            return absl::InvalidArgumentError(absl::StrFormat(
                "heartbeat_interval = %s is invalid (-1 disables, else >= 1000ms)",
                Ms(c.heartbeat_interval)));
          }),
      IntOption("sample_rate", &Config::sample_rate, 0, 99),
      BoolOption("tls_v1", &Config::tls_v1),
      {"tls_config",
       [](Config&, const Value&) -> absl::Status {
         return absl::InvalidArgumentError(
             "option tls_config takes a Go *tls.Config; set tls_root_ca_file, tls_cert, tls_key, "
             "tls_insecure_skip_verify, tls_min_version (or Config::tls_config) instead");
       },
       nullptr},
      BoolOption("deflate", &Config::deflate),
      IntOption("deflate_level", &Config::deflate_level, 1, 9),
      BoolOption("snappy", &Config::snappy),
      IntOption("output_buffer_size", &Config::output_buffer_size, -1, int64_t{1} << 30),
      DurationOption("output_buffer_timeout", &Config::output_buffer_timeout, milliseconds(-1),
                     kNoMax),
      IntOption("max_in_flight", &Config::max_in_flight, 0, 1 << 30),
      DurationOption("msg_timeout", &Config::msg_timeout, milliseconds(0), kNoMax),
      StringOption("auth_secret", &Config::auth_secret),
      // go-nsq's TLS options (its tlsConfig handler).
      TlsStringOption("tls_root_ca_file", &Config::TlsConfig::ca_file),
      {"tls_insecure_skip_verify",
       [](Config& c, const Value& v) -> absl::Status {
         absl::StatusOr<bool> b = ToBool("tls_insecure_skip_verify", v);
         if (!b.ok()) return b.status();
         c.tls_config.insecure_skip_verify = *b;
         return absl::OkStatus();
       },
       nullptr},
      TlsStringOption("tls_cert", &Config::TlsConfig::cert_file),
      TlsStringOption("tls_key", &Config::TlsConfig::key_file),
      {"tls_min_version",
       [](Config& c, const Value& v) -> absl::Status {
         absl::StatusOr<std::string> s = ToString("tls_min_version", v);
         if (!s.ok()) return s.status();
         if (*s == "ssl3.0") {
           return absl::InvalidArgumentError(
               "option tls_min_version: ssl3.0 is not supported; use tls1.0 or later");
         }
         c.tls_config.min_version = *std::move(s);
         return absl::OkStatus();
       },
       [](const Config& c) -> absl::Status {
         const std::string& v = c.tls_config.min_version;
         if (v == "tls1.0" || v == "tls1.1" || v == "tls1.2" || v == "tls1.3") {
           return absl::OkStatus();
         }
         return absl::InvalidArgumentError(absl::StrFormat(
             "tls_config.min_version = \"%s\" is invalid (tls1.0, tls1.1, tls1.2 or tls1.3)", v));
       }},
      // This library's own.
      TlsStringOption("tls_server_name", &Config::TlsConfig::server_name),
      IntOption("max_outstanding_messages", &Config::max_outstanding_messages, 1,
                int64_t{1} << 40),
      IntOption("max_outstanding_bytes", &Config::max_outstanding_bytes, 1, int64_t{1} << 50),
      BoolOption("block_when_full", &Config::block_when_full),
      BoolOption("sync_publish_on_caller_thread", &Config::sync_publish_on_caller_thread),
      DurationOption("reconnect_min_backoff", &Config::reconnect_min_backoff, milliseconds(1),
                     60 * kMinute),
      Checked(DurationOption("reconnect_max_backoff", &Config::reconnect_max_backoff,
                             milliseconds(1), 60 * kMinute),
              [](const Config& c) {
                return CheckRange("reconnect_max_backoff", c.reconnect_max_backoff,
                                  c.reconnect_min_backoff, 60 * kMinute);
              }),
      DurationOption("drain_timeout", &Config::drain_timeout, milliseconds(0), 60 * kMinute),
      {"log_level",
       [](Config& c, const Value& v) -> absl::Status {
         const std::pair<const char*, LogLevel> levels[] = {{"debug", LogLevel::kDebug},
                                                            {"info", LogLevel::kInfo},
                                                            {"warning", LogLevel::kWarning},
                                                            {"warn", LogLevel::kWarning},
                                                            {"error", LogLevel::kError}};
         for (const auto& [name, level] : levels) {
           if (v.kind == Value::Kind::kString && v.text == name) {
             c.log_level = level;
             return absl::OkStatus();
           }
         }
         return CannotCoerce("log_level", v, "debug, info, warning or error");
       },
       nullptr},
  };
  return *options;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Lower case without '_' and '-': "maxInFlight" and "max-in-flight" meet "max_in_flight".
std::string Folded(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

absl::Status UnknownOption(std::string_view option) {
  // Close: a few edits away (relative to the length), or one name containing the other.
  const std::string given = Folded(option);
  std::vector<std::pair<size_t, std::string>> close;
  for (const Option& known : Options()) {
    const std::string name = Folded(known.name);
    const size_t distance = EditDistance(given, name);
    const bool contains = given.size() >= 4 && (name.find(given) != std::string::npos ||
                                                given.find(name) != std::string::npos);
    if (distance <= std::max<size_t>(2, name.size() / 3) || contains) {
      close.emplace_back(contains ? 0 : distance, known.name);
    }
  }
  std::sort(close.begin(), close.end());
  if (close.size() > 4) close.resize(4);
  std::vector<std::string> names;
  for (auto& [distance, name] : close) names.push_back(std::move(name));
  return absl::InvalidArgumentError(absl::StrFormat(
      "unknown option \"%s\"%s", option,
      names.empty() ? std::string(" (the options are listed in nsq/config.h)")
                    : absl::StrCat("; did you mean ", absl::StrJoin(names, ", "), "?")));
}

absl::Status SetValue(Config& config, std::string_view option, const Value& value) {
  std::string name(option);
  std::replace(name.begin(), name.end(), '-', '_');  // as go-nsq
  for (const Option& known : Options()) {
    if (name != known.name) continue;
    Config updated = config;
    if (absl::Status status = known.set(updated, value); !status.ok()) return status;
    if (known.check) {
      if (absl::Status status = known.check(updated); !status.ok()) return status;
    }
    config = std::move(updated);
    return absl::OkStatus();
  }
  return UnknownOption(option);
}

}  // namespace

const char* Version() { return NSQ_CLIENT_VERSION; }

Config::Config() {
  hostname = LocalHostname();
  client_id = hostname.substr(0, hostname.find('.'));
  user_agent = absl::StrCat("nsq-cpp/", NSQ_CLIENT_VERSION);
}

absl::Status Config::Validate() const {
  for (const Option& option : Options()) {
    if (!option.check) continue;
    if (absl::Status status = option.check(*this); !status.ok()) return status;
  }
  if (heartbeat_interval >= read_timeout) {
    return absl::InvalidArgumentError(
        absl::StrFormat("heartbeat_interval (%s) must be less than read_timeout (%s)",
                        Ms(heartbeat_interval), Ms(read_timeout)));
  }
  if (snappy && deflate) {
    return absl::InvalidArgumentError("snappy and deflate cannot both be enabled");
  }
  if (tls_config.cert_file.empty() != tls_config.key_file.empty()) {
    return absl::InvalidArgumentError(
        "tls_config.cert_file and tls_config.key_file must be set together");
  }
  return absl::OkStatus();
}

absl::Status Config::Set(std::string_view option, std::string_view value) {
  Value v;
  v.kind = Value::Kind::kString;
  v.text = value;
  return SetValue(*this, option, v);
}

absl::Status Config::Set(std::string_view option, const char* value) {
  return Set(option, std::string_view(value == nullptr ? "" : value));
}

absl::Status Config::Set(std::string_view option, bool value) {
  Value v;
  v.kind = Value::Kind::kBool;
  v.b = value;
  return SetValue(*this, option, v);
}

absl::Status Config::Set(std::string_view option, int value) {
  return Set(option, static_cast<int64_t>(value));
}

absl::Status Config::Set(std::string_view option, int64_t value) {
  Value v;
  v.kind = Value::Kind::kInt;
  v.i = value;
  return SetValue(*this, option, v);
}

absl::Status Config::Set(std::string_view option, double value) {
  Value v;
  v.kind = Value::Kind::kDouble;
  v.d = value;
  return SetValue(*this, option, v);
}

absl::Status Config::Set(std::string_view option, std::chrono::nanoseconds value) {
  Value v;
  v.kind = Value::Kind::kDuration;
  v.ns = value;
  return SetValue(*this, option, v);
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
