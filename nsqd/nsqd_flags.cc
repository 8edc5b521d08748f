#include "nsqd/nsqd_flags.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <thread>

#include <sched.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config/flag_set.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "common/util/hash.h"
#include "common/util/status_macros.h"

namespace nsq::nsqd {
namespace {

// Flag values that NsqdOptions keeps in another form, and the flags that set no option.
struct FlagScratch {
  std::string config_path;
  bool version = false;
  bool deprecated_verbose = false;
  bool deprecated_worker_id = false;
  std::vector<double> e2e_percentiles;
};

// The TLS versions nsqd accepts and the numbers Go reports for them (crypto/tls constants).
constexpr std::array<std::pair<std::string_view, int>, 4> kTlsVersions = {{
    {"tls1.0", 0x0301},
    {"tls1.1", 0x0302},
    {"tls1.2", 0x0303},
    {"tls1.3", 0x0304},
}};

// The CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), within the
// range --worker-threads accepts: the default number of shards, one per core.
int64_t AvailableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int count = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) count = CPU_COUNT(&set);
  if (count <= 0) count = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp<int64_t>(count, 1, 256);
}

// Go nsqd's default: CRC32-IEEE over the raw MD5 digest of the hostname, modulo 1024.
int64_t DefaultNodeId(std::string_view hostname) {
  std::array<uint8_t, 16> digest = util::Md5(hostname);
  std::string_view raw(reinterpret_cast<const char*>(digest.data()), digest.size());
  return util::Crc32Ieee(raw) % 1024;
}

std::optional<double> ParsePercentile(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string FormatPercentile(double value) {
  char buffer[64];
  auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, ptr);
}

void RegisterFlags(config::FlagSet& flags, NsqdOptions& o, FlagScratch& s) {
  flags.AddBool("version", &s.version, "print the version and exit").CommandLineOnly();
  flags.AddConfigFile("config", &s.config_path, "path to a TOML config file");

  flags.AddString("log-level", &o.log_level, "log verbosity: debug, info, warn, error or fatal");
  flags.AddString("log-prefix", &o.log_prefix, "prefix of every log line");
  flags.AddBool("verbose", &s.deprecated_verbose, "[deprecated] no effect, use --log-level")
      .CommandLineOnly();
  flags
      .AddInt("node-id", &o.node_id,
              "unique part of message ids, in [0,1024) (default: a hash of the hostname)")
      .ConfigKey("id");
  flags.AddBool("worker-id", &s.deprecated_worker_id, "[deprecated] use --node-id")
      .CommandLineOnly();

  flags.AddString("tcp-address", &o.tcp_address, "<addr>:<port> for TCP clients");
  flags.AddString("http-address", &o.http_address, "<addr>:<port> for HTTP clients");
  flags.AddString("https-address", &o.https_address,
                  "<addr>:<port> for HTTPS clients (opened only with --tls-cert and --tls-key)");
  flags.AddString("broadcast-address", &o.broadcast_address,
                  "address registered with nsqlookupd (default: the hostname)");
  flags.AddInt("broadcast-tcp-port", &o.broadcast_tcp_port,
               "TCP port registered with nsqlookupd (default: the listening port)");
  flags.AddInt("broadcast-http-port", &o.broadcast_http_port,
               "HTTP port registered with nsqlookupd (default: the listening port)");
  flags
      .AddStringList("lookupd-tcp-address", &o.nsqlookupd_tcp_addresses,
                     "nsqlookupd TCP address (may be given multiple times)")
      .ConfigKey("nsqlookupd_tcp_addresses");

  flags
      .AddStringList("auth-http-address", &o.auth_http_addresses,
                     "<addr>:<port> or URL of an auth server (may be given multiple times)")
      .ConfigKey("auth_http_addresses");
  flags.AddString("auth-http-request-method", &o.auth_http_request_method,
                  "HTTP method for auth server requests: get or post");
  flags.AddDuration("http-client-connect-timeout", &o.http_client_connect_timeout,
                    "connect timeout of outbound HTTP requests (auth servers, nsqlookupd)");
  flags.AddDuration("http-client-request-timeout", &o.http_client_request_timeout,
                    "time to wait for the answer of an outbound HTTP request");
  flags.AddString("topology-region", &o.topology_region, "region of this node");
  flags.AddString("topology-zone", &o.topology_zone, "availability zone of this node");
  flags
      .AddStringList("enable-experiment", &o.enable_experiment,
                     "experimental feature to enable: topology-aware-consumption (consumers in "
                     "--topology-zone, then --topology-region, are offered messages first)")
      .ConfigKey("enable_experiment");

  flags.AddString("data-path", &o.data_path, "directory of the message store (RocksDB)");
  flags.AddInt("mem-queue-size", &o.mem_queue_size,
               "messages kept in memory per topic and per channel; more go to the store (0: all)");
  flags.AddInt("max-bytes-per-file", &o.max_bytes_per_file,
               "nsqd's disk queue file size; the RocksDB store has no such files, so only the "
               "default is accepted");
  flags.AddInt("sync-every", &o.sync_every, "messages between syncs to disk (1: OK only once on disk)");
  flags.AddDuration("sync-timeout", &o.sync_timeout, "longest time between syncs to disk");
  flags.AddInt("queue-scan-worker-pool-max", &o.queue_scan_worker_pool_max,
               "nsqd's timeout scan workers; ours fires exact timers, so only the default is "
               "accepted");
  flags.AddInt("queue-scan-selection-count", &o.queue_scan_selection_count,
               "nsqd's timeout scan sample; ours fires exact timers, so only the default is "
               "accepted");

  flags.AddDuration("msg-timeout", &o.msg_timeout,
                    "default time before an unfinished message is requeued");
  flags.AddDuration("max-msg-timeout", &o.max_msg_timeout, "largest message timeout allowed");
  flags.AddInt("max-msg-size", &o.max_msg_size, "largest message body in bytes");
  flags.AddInt("max-body-size", &o.max_body_size, "largest command body in bytes");
  flags.AddDuration("max-req-timeout", &o.max_req_timeout, "largest requeue delay allowed");

  flags.AddDuration("max-heartbeat-interval", &o.max_heartbeat_interval,
                    "largest heartbeat interval a client may ask for");
  flags.AddInt("max-rdy-count", &o.max_rdy_count, "largest RDY count a client may send");
  flags.AddInt("max-output-buffer-size", &o.max_output_buffer_size,
               "largest output buffer in bytes a client may ask for");
  flags.AddDuration("max-output-buffer-timeout", &o.max_output_buffer_timeout,
                    "longest output flush interval a client may ask for");
  flags.AddDuration("min-output-buffer-timeout", &o.min_output_buffer_timeout,
                    "shortest output flush interval a client may ask for");
  flags.AddDuration("output-buffer-timeout", &o.output_buffer_timeout,
                    "default interval between flushes of client output");
  flags.AddInt("max-channel-consumers", &o.max_channel_consumers,
               "most consumers per channel (0 means unlimited)");
  o.worker_threads = AvailableCpus();
  flags.AddInt("worker-threads", &o.worker_threads,
               "event-loop threads (shards): each owns the topics that hash to it and serves "
               "a share of the TCP connections; the first also runs HTTP and lookupd (1 to "
               "256; by default one per CPU this process may run on)");
  flags.AddDuration("busy-poll", &o.busy_poll,
                    "how long an event loop keeps polling after it last had work before it "
                    "sleeps: lower round-trip latency for that much CPU (0 to 1s, 0 = off)");

  flags.AddString("statsd-address", &o.statsd_address,
                  "UDP <addr>:<port> of a statsd daemon for pushing stats");
  flags.AddString("statsd-prefix", &o.statsd_prefix,
                  "prefix used for keys sent to statsd (%s for host replacement)");
  flags.AddDuration("statsd-interval", &o.statsd_interval, "duration between pushing to statsd");
  flags.AddBool("statsd-mem-stats", &o.statsd_mem_stats,
                "send memory stats to statsd: heap in use and idle (glibc's allocator) and RSS");
  flags.AddInt("statsd-udp-packet-size", &o.statsd_udp_packet_size,
               "the size in bytes of statsd UDP packets");
  flags.AddBool("statsd-exclude-ephemeral", &o.statsd_exclude_ephemeral,
                "skip ephemeral topics and channels when sending stats to statsd");

  flags
      .AddFloatList("e2e-processing-latency-percentile", &s.e2e_percentiles,
                    "end-to-end latency percentile to track, in (0,1] (may be given multiple "
                    "times or comma-separated, e.g. 1.0,0.99,0.95), from publish to FIN, per topic "
                    "and channel in /stats")
      .ConfigKey("e2e_processing_latency_percentiles");
  flags.AddDuration("e2e-processing-latency-window-time", &o.e2e_processing_latency_window_time,
                    "time window of the end-to-end latency percentiles (only with "
                    "--e2e-processing-latency-percentile)");

  flags.AddString("tls-cert", &o.tls_cert, "path to the certificate file");
  flags.AddString("tls-key", &o.tls_key, "path to the key file");
  flags.AddString("tls-client-auth-policy", &o.tls_client_auth_policy,
                  "client certificate policy: require or require-verify");
  flags.AddString("tls-root-ca-file", &o.tls_root_ca_file,
                  "path to the certificate authority file");
  flags
      .AddString("tls-required", &o.tls_required,
                 "require TLS from clients: true, false or tcp-https")
      .ImplicitValue("true");
  flags.AddString("tls-min-version", &o.tls_min_version,
                  "oldest TLS version accepted: tls1.0, tls1.1, tls1.2 or tls1.3");

  flags.AddBool("deflate", &o.deflate, "offer deflate compression to clients");
  flags.AddInt("max-deflate-level", &o.max_deflate_level,
               "highest deflate level a client may ask for, 1 to 9");
  flags.AddBool("snappy", &o.snappy, "offer snappy compression to clients");
}

// Turns the parsed values into their canonical form and rejects the settings nsqd refuses to
// start with, as Go nsqd does in New().
absl::Status NormalizeAndValidate(NsqdOptions& o, const FlagScratch& s) {
  log::Level level;
  if (!log::ParseLevel(o.log_level, &level)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --log-level \"", o.log_level,
                                                   "\" (want debug, info, warn, error or fatal)"));
  }
  o.log_level = absl::AsciiStrToLower(o.log_level);

  if (o.node_id < 0 || o.node_id >= 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--node-id must be in [0,1024), got ", o.node_id));
  }
  if (o.max_deflate_level < 1 || o.max_deflate_level > 9) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-deflate-level must be in [1,9], got ", o.max_deflate_level));
  }
  if (o.mem_queue_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--mem-queue-size must not be negative, got ", o.mem_queue_size));
  }
  if (o.max_msg_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-msg-size must be positive, got ", o.max_msg_size));
  }
  if (o.max_body_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-body-size must be positive, got ", o.max_body_size));
  }
  if (o.max_rdy_count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-rdy-count must not be negative, got ", o.max_rdy_count));
  }
  if (o.worker_threads < 1 || o.worker_threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("--worker-threads must be in [1,256], got ", o.worker_threads));
  }
  if (o.busy_poll < absl::ZeroDuration() || o.busy_poll > absl::Seconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat("--busy-poll must be in [0,1s], got ",
                                                   absl::FormatDuration(o.busy_poll)));
  }
  if (o.auth_http_request_method != "get" && o.auth_http_request_method != "post") {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth-http-request-method must be get or post, got \"",
                     o.auth_http_request_method, "\""));
  }

  std::vector<double> percentiles = s.e2e_percentiles;
  for (double p : percentiles) {
    if (!(p > 0 && p <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid --e2e-processing-latency-percentile ",
                                                     FormatPercentile(p), " (want (0,1])"));
    }
  }
  std::sort(percentiles.begin(), percentiles.end(), std::greater<>());
  o.e2e_processing_latency_percentiles.clear();
  for (double p : percentiles) o.e2e_processing_latency_percentiles.push_back(FormatPercentile(p));
  o.e2e_quantiles = percentiles;
  if (o.e2e_processing_latency_window_time <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--e2e-processing-latency-window-time must be positive, got ",
                     absl::FormatDuration(o.e2e_processing_latency_window_time)));
  }

  if (!o.statsd_address.empty()) {
    // nsqd dials the address at each push and logs the failure; a malformed one never works.
    if (absl::Status address = net::SplitHostPort(o.statsd_address).status(); !address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid --statsd-address \"",
                                                     o.statsd_address, "\" - ",
                                                     address.message()));
    }
    // nsqd's ticker panics on a non-positive interval; a packet must hold something.
    if (o.statsd_interval <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--statsd-interval must be positive, got ",
                       absl::FormatDuration(o.statsd_interval)));
    }
    if (o.statsd_udp_packet_size < 1 || o.statsd_udp_packet_size > 65507) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--statsd-udp-packet-size must be in [1,65507], got ", o.statsd_udp_packet_size));
    }
  }

  // Go's tls-required takes "tcp-https" or anything strconv.ParseBool takes, any case.
  std::string tls_required = absl::AsciiStrToLower(o.tls_required);
  if (tls_required != "tcp-https") {
    absl::StatusOr<bool> required = config::ParseGoBool(tls_required);
    if (!required.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid --tls-required \"", o.tls_required,
                                                     "\" (want true, false or tcp-https)"));
    }
    tls_required = *required ? "true" : "false";
  }
  // A client certificate policy makes no sense without TLS, so nsqd turns TLS on for it.
  if (!o.tls_client_auth_policy.empty() && tls_required == "false") tls_required = "true";
  o.tls_required = tls_required;
  if (o.tls_required != "false" && (o.tls_cert.empty() || o.tls_key.empty())) {
    return absl::InvalidArgumentError(
        "cannot require TLS client connections (--tls-required, --tls-client-auth-policy) "
        "without --tls-cert and --tls-key");
  }

  // An empty --tls-min-version keeps the default, as in Go.
  std::string tls_min_version = absl::AsciiStrToLower(o.tls_min_version);
  if (tls_min_version.empty()) tls_min_version = "tls1.0";
  bool known_version = std::any_of(kTlsVersions.begin(), kTlsVersions.end(),
                                   [&](const auto& v) { return v.first == tls_min_version; });
  if (!known_version) {
    return absl::InvalidArgumentError(absl::StrCat("invalid --tls-min-version \"",
                                                   o.tls_min_version,
                                                   "\" (want tls1.0, tls1.1, tls1.2 or tls1.3)"));
  }
  o.tls_min_version = tls_min_version;
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSupported(const NsqdOptions& o) {
  auto not_supported = [](std::string_view flag, std::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s is not supported by this nsqd yet: %s (remove the flag to start)", flag, why));
  };
  auto no_effect = [](std::string_view flag, std::string_view why) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s has no effect in this nsqd: %s (remove the flag or use its default)", flag, why));
  };
  const NsqdOptions defaults;
  for (const std::string& experiment : o.enable_experiment) {
    if (experiment != "topology-aware-consumption") {
      return not_supported(absl::StrCat("--enable-experiment=", experiment),
                           "the only experiment is topology-aware-consumption");
    }
  }
  if (o.max_bytes_per_file != defaults.max_bytes_per_file) {
    return no_effect("--max-bytes-per-file",
                     "messages are stored in RocksDB, which has no rolling queue files");
  }
  constexpr std::string_view kTimers =
      "in-flight and deferred timeouts fire on their own timers, there is no scan to tune";
  if (o.queue_scan_worker_pool_max != defaults.queue_scan_worker_pool_max) {
    return no_effect("--queue-scan-worker-pool-max", kTimers);
  }
  if (o.queue_scan_selection_count != defaults.queue_scan_selection_count) {
    return no_effect("--queue-scan-selection-count", kTimers);
  }
  return absl::OkStatus();
}

absl::StatusOr<NsqdCommandLine> ParseNsqdCommandLine(int argc, const char* const* argv) {
  NsqdCommandLine command_line;
  NsqdOptions& options = command_line.options;
  std::string hostname = net::Hostname();
  options.broadcast_address = hostname;
  options.node_id = DefaultNodeId(hostname);

  FlagScratch scratch;
  config::FlagSet flags("nsqd");
  RegisterFlags(flags, options, scratch);
  NSQ_ASSIGN_OR_RETURN(config::ParseResult parsed, flags.Parse(argc, argv));
  if (parsed.help_requested) {
    command_line.show_help = true;
    command_line.help_text = flags.Usage();
    return command_line;
  }
  command_line.ignored_config_keys = parsed.ignored_config_keys;
  command_line.show_version = scratch.version;
  if (command_line.show_version) return command_line;  // Go prints the version before validating.
  NSQ_RETURN_IF_ERROR(NormalizeAndValidate(options, scratch));
  return command_line;
}

std::optional<std::string> NsqdConfigValueJson(const NsqdOptions& options, std::string_view key) {
  // Options Go keeps as numbers although they are set by name.
  if (key == "log_level") {
    log::Level level = log::Level::kInfo;
    log::ParseLevel(options.log_level, &level);
    return absl::StrCat(static_cast<int>(level));
  }
  if (key == "tls_required") {
    // Go's TLSNotRequired = 0, TLSRequiredExceptHTTP = 1, TLSRequired = 2.
    if (options.tls_required == "tcp-https") return "1";
    return options.tls_required == "true" ? "2" : "0";
  }
  if (key == "tls_min_version") {
    for (const auto& [name, number] : kTlsVersions) {
      if (name == options.tls_min_version) return absl::StrCat(number);
    }
    return "0";
  }
  if (key == "e2e_processing_latency_percentiles") {
    std::string json = "[";
    for (const std::string& text : options.e2e_processing_latency_percentiles) {
      std::optional<double> value = ParsePercentile(text);
      if (!value) continue;  // Only validated options reach here; a bad entry has no JSON form.
      if (json.size() > 1) json += ",";
      json += FormatPercentile(*value);
    }
    return json + "]";
  }

  // Everything else is rendered by the flag set itself, bound to a copy.
  NsqdOptions copy = options;
  FlagScratch scratch;
  config::FlagSet flags("nsqd");
  RegisterFlags(flags, copy, scratch);
  return flags.ValueJson(key);
}

}  // namespace nsq::nsqd
