#include "nsqd/nsqd_flags.h"

#include <doctest/doctest.h>
#include <sched.h>
#include <unistd.h>

#include <climits>
#include <map>
#include <string>

#include "common/util/hash.h"
#include "tests/unit/config/test_files.h"

namespace nsq::nsqd {
namespace {

using config::testing::Argv;
using config::testing::TempFile;

absl::StatusOr<NsqdCommandLine> Parse(std::initializer_list<std::string> args) {
  Argv argv(args);
  return ParseNsqdCommandLine(argv.argc(), argv.argv());
}

NsqdOptions ParseOk(std::initializer_list<std::string> args) {
  absl::StatusOr<NsqdCommandLine> parsed = Parse(args);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  return parsed->options;
}

std::string ParseError(std::initializer_list<std::string> args) {
  absl::StatusOr<NsqdCommandLine> parsed = Parse(args);
  REQUIRE(!parsed.ok());
  return std::string(parsed.status().message());
}

std::string Hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  REQUIRE(::gethostname(name, sizeof(name) - 1) == 0);
  return name;
}

std::string Json(const NsqdOptions& options, std::string_view key) {
  std::optional<std::string> json = NsqdConfigValueJson(options, key);
  REQUIRE_MESSAGE(json.has_value(), key);
  return *json;
}

TEST_CASE("Without flags nsqd gets NSQ's defaults, with hostname-derived address and node id") {
  NsqdOptions o = ParseOk({});
  NsqdOptions defaults;
  std::string hostname = Hostname();
  std::array<uint8_t, 16> digest = util::Md5(hostname);
  int64_t node_id =
      util::Crc32Ieee(std::string_view(reinterpret_cast<const char*>(digest.data()), 16)) % 1024;

  CHECK(o.broadcast_address == hostname);
  CHECK(o.node_id == node_id);
  CHECK(o.log_level == "info");
  CHECK(o.log_prefix == "[nsqd] ");
  CHECK(o.tcp_address == "0.0.0.0:4150");
  CHECK(o.http_address == "0.0.0.0:4151");
  CHECK(o.https_address == "0.0.0.0:4152");
  CHECK(o.broadcast_tcp_port == 0);
  CHECK(o.broadcast_http_port == 0);
  CHECK(o.nsqlookupd_tcp_addresses.empty());
  CHECK(o.data_path.empty());
  CHECK(o.mem_queue_size == 10000);
  CHECK(o.max_bytes_per_file == 104857600);
  CHECK(o.sync_every == 2500);
  CHECK(o.sync_timeout == absl::Seconds(2));
  CHECK(o.msg_timeout == absl::Seconds(60));
  CHECK(o.max_msg_timeout == absl::Minutes(15));
  CHECK(o.max_msg_size == 1048576);
  CHECK(o.max_body_size == 5242880);
  CHECK(o.max_req_timeout == absl::Hours(1));
  CHECK(o.max_heartbeat_interval == absl::Seconds(60));
  CHECK(o.max_rdy_count == 2500);
  CHECK(o.max_output_buffer_size == 65536);
  CHECK(o.max_output_buffer_timeout == absl::Seconds(30));
  CHECK(o.min_output_buffer_timeout == absl::Milliseconds(25));
  CHECK(o.output_buffer_timeout == absl::Milliseconds(250));
  CHECK(o.max_channel_consumers == 0);
  CHECK(o.deflate);
  CHECK(o.max_deflate_level == 6);
  CHECK(o.snappy);
  CHECK(o.tls_cert.empty());
  CHECK(o.tls_key.empty());
  CHECK(o.tls_root_ca_file.empty());
  CHECK(o.tls_required == "false");
  CHECK(o.tls_min_version == "tls1.0");
  CHECK(o.tls_client_auth_policy.empty());
  CHECK(o.auth_http_addresses.empty());
  CHECK(o.auth_http_request_method == "get");
  CHECK(o.http_client_connect_timeout == absl::Seconds(2));
  CHECK(o.http_client_request_timeout == absl::Seconds(5));
  CHECK(o.statsd_address.empty());
  CHECK(o.statsd_prefix == "nsq.%s");
  CHECK(o.statsd_interval == absl::Seconds(60));
  CHECK(o.statsd_mem_stats);
  CHECK(o.statsd_udp_packet_size == 508);
  CHECK_FALSE(o.statsd_exclude_ephemeral);
  CHECK(o.e2e_processing_latency_percentiles.empty());
  CHECK(o.e2e_processing_latency_window_time == absl::Minutes(10));
  CHECK(o.queue_scan_worker_pool_max == 4);
  CHECK(o.queue_scan_selection_count == 20);
  CHECK(o.topology_region.empty());
  CHECK(o.topology_zone.empty());
  CHECK(o.enable_experiment.empty());
  CHECK(o.client_timeout == defaults.client_timeout);
}

TEST_CASE("--worker-threads defaults to one shard per CPU nsqd may run on") {
  cpu_set_t all;
  REQUIRE(::sched_getaffinity(0, sizeof(all), &all) == 0);
  CHECK(ParseOk({}).worker_threads == CPU_COUNT(&all));
  // Pinned to one CPU (as taskset or a cpuset does): one shard.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &all)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  REQUIRE(::sched_setaffinity(0, sizeof(one), &one) == 0);
  const int64_t pinned = ParseOk({}).worker_threads;
  REQUIRE(::sched_setaffinity(0, sizeof(all), &all) == 0);
  CHECK(pinned == 1);
  CHECK(ParseOk({"--worker-threads=1"}).worker_threads == 1);
}

TEST_CASE("Every nsqd flag sets its option") {
  NsqdOptions o = ParseOk({
      "--log-level=debug",
      "--log-prefix=[x] ",
      "--node-id=1023",
      "--tcp-address=127.0.0.1:1",
      "--http-address=127.0.0.1:2",
      "--https-address=127.0.0.1:3",
      "--broadcast-address=example.com",
      "--broadcast-tcp-port=14150",
      "--broadcast-http-port=14151",
      "--lookupd-tcp-address=l1:4160",
      "--lookupd-tcp-address",
      "l2:4160",
      "--auth-http-address=http://auth/",
      "--auth-http-request-method=post",
      "--http-client-connect-timeout=3s",
      "--http-client-request-timeout=6s",
      "--topology-region=eu",
      "--topology-zone=eu-1a",
      "--enable-experiment=topology-aware-consumption",
      "--data-path=/tmp/d",
      "--mem-queue-size=0",
      "--max-bytes-per-file=1000",
      "--sync-every=10",
      "--sync-timeout=1s",
      "--queue-scan-worker-pool-max=8",
      "--queue-scan-selection-count=30",
      "--msg-timeout=90s",
      "--max-msg-timeout=20m",
      "--max-msg-size=1024768",
      "--max-body-size=5123840",
      "--max-req-timeout=2h",
      "--max-heartbeat-interval=45s",
      "--max-rdy-count=100",
      "--max-output-buffer-size=1024",
      "--max-output-buffer-timeout=1s",
      "--min-output-buffer-timeout=10ms",
      "--output-buffer-timeout=100ms",
      "--max-channel-consumers=3",
      "--statsd-address=127.0.0.1:8125",
      "--statsd-prefix=p.%s",
      "--statsd-interval=30s",
      "--statsd-mem-stats=false",
      "--statsd-udp-packet-size=1400",
      "--statsd-exclude-ephemeral",
      "--e2e-processing-latency-percentile=0.5",
      "--e2e-processing-latency-window-time=5m",
      "--tls-cert=/c.pem",
      "--tls-key=/k.pem",
      "--tls-client-auth-policy=require-verify",
      "--tls-root-ca-file=/ca.pem",
      "--tls-required=tcp-https",
      "--tls-min-version=tls1.2",
      "--deflate=false",
      "--max-deflate-level=9",
      "--snappy=false",
      "--verbose",
      "--worker-id",
  });
  CHECK(o.log_level == "debug");
  CHECK(o.log_prefix == "[x] ");
  CHECK(o.node_id == 1023);
  CHECK(o.tcp_address == "127.0.0.1:1");
  CHECK(o.http_address == "127.0.0.1:2");
  CHECK(o.https_address == "127.0.0.1:3");
  CHECK(o.broadcast_address == "example.com");
  CHECK(o.broadcast_tcp_port == 14150);
  CHECK(o.broadcast_http_port == 14151);
  CHECK(o.nsqlookupd_tcp_addresses == std::vector<std::string>{"l1:4160", "l2:4160"});
  CHECK(o.auth_http_addresses == std::vector<std::string>{"http://auth/"});
  CHECK(o.auth_http_request_method == "post");
  CHECK(o.http_client_connect_timeout == absl::Seconds(3));
  CHECK(o.http_client_request_timeout == absl::Seconds(6));
  CHECK(o.topology_region == "eu");
  CHECK(o.topology_zone == "eu-1a");
  CHECK(o.enable_experiment == std::vector<std::string>{"topology-aware-consumption"});
  CHECK(o.data_path == "/tmp/d");
  CHECK(o.mem_queue_size == 0);
  CHECK(o.max_bytes_per_file == 1000);
  CHECK(o.sync_every == 10);
  CHECK(o.sync_timeout == absl::Seconds(1));
  CHECK(o.queue_scan_worker_pool_max == 8);
  CHECK(o.queue_scan_selection_count == 30);
  CHECK(o.msg_timeout == absl::Seconds(90));
  CHECK(o.max_msg_timeout == absl::Minutes(20));
  CHECK(o.max_msg_size == 1024768);
  CHECK(o.max_body_size == 5123840);
  CHECK(o.max_req_timeout == absl::Hours(2));
  CHECK(o.max_heartbeat_interval == absl::Seconds(45));
  CHECK(o.max_rdy_count == 100);
  CHECK(o.max_output_buffer_size == 1024);
  CHECK(o.max_output_buffer_timeout == absl::Seconds(1));
  CHECK(o.min_output_buffer_timeout == absl::Milliseconds(10));
  CHECK(o.output_buffer_timeout == absl::Milliseconds(100));
  CHECK(o.max_channel_consumers == 3);
  CHECK(o.statsd_address == "127.0.0.1:8125");
  CHECK(o.statsd_prefix == "p.%s");
  CHECK(o.statsd_interval == absl::Seconds(30));
  CHECK_FALSE(o.statsd_mem_stats);
  CHECK(o.statsd_udp_packet_size == 1400);
  CHECK(o.statsd_exclude_ephemeral);
  CHECK(o.e2e_processing_latency_percentiles == std::vector<std::string>{"0.5"});
  CHECK(o.e2e_processing_latency_window_time == absl::Minutes(5));
  CHECK(o.tls_cert == "/c.pem");
  CHECK(o.tls_key == "/k.pem");
  CHECK(o.tls_client_auth_policy == "require-verify");
  CHECK(o.tls_root_ca_file == "/ca.pem");
  CHECK(o.tls_required == "tcp-https");  // an explicit tcp-https survives the auth policy
  CHECK(o.tls_min_version == "tls1.2");
  CHECK_FALSE(o.deflate);
  CHECK(o.max_deflate_level == 9);
  CHECK_FALSE(o.snappy);
}

TEST_CASE("An empty --https-address is accepted") {
  CHECK(ParseOk({"--https-address="}).https_address.empty());
  CHECK(ParseOk({"--http-address", ""}).http_address.empty());
}

TEST_CASE("Bad flag values are errors that name the flag") {
  CHECK(ParseError({"--nope"}) == "flag provided but not defined: --nope");
  CHECK(ParseError({"--msg-timeout=60"}).find("--msg-timeout") != std::string::npos);
  CHECK(ParseError({"--mem-queue-size=ten"}).find("--mem-queue-size") != std::string::npos);
  CHECK(ParseError({"--worker-id=5"}).find("--worker-id") != std::string::npos);
}

TEST_CASE("Out-of-range settings are refused as Go nsqd refuses them") {
  CHECK(ParseError({"--node-id=1024"}) == "--node-id must be in [0,1024), got 1024");
  CHECK(ParseError({"--node-id=-1"}) == "--node-id must be in [0,1024), got -1");
  CHECK(ParseError({"--max-deflate-level=0"}) == "--max-deflate-level must be in [1,9], got 0");
  CHECK(ParseError({"--max-deflate-level=10"}) == "--max-deflate-level must be in [1,9], got 10");
  CHECK(ParseError({"--log-level=verbose"}) ==
        "invalid --log-level \"verbose\" (want debug, info, warn, error or fatal)");
  CHECK(ParseError({"--tls-required=maybe"}) ==
        "invalid --tls-required \"maybe\" (want true, false or tcp-https)");
  CHECK(ParseError({"--auth-http-request-method=put"}) ==
        "--auth-http-request-method must be get or post, got \"put\"");
  CHECK(ParseError({"--e2e-processing-latency-percentile=0"}) ==
        "invalid --e2e-processing-latency-percentile 0 (want (0,1])");
  CHECK(ParseError({"--e2e-processing-latency-percentile=0.5,1.5"}) ==
        "invalid --e2e-processing-latency-percentile 1.5 (want (0,1])");
  CHECK(ParseError({"--mem-queue-size=-1"}) == "--mem-queue-size must not be negative, got -1");
  CHECK(ParseError({"--max-msg-size=0"}) == "--max-msg-size must be positive, got 0");
  CHECK(ParseError({"--max-body-size=-5"}) == "--max-body-size must be positive, got -5");
  CHECK(ParseError({"--max-rdy-count=-1"}) == "--max-rdy-count must not be negative, got -1");
  CHECK(ParseError({"--tls-min-version=ssl3.0"}) ==
        "invalid --tls-min-version \"ssl3.0\" (want tls1.0, tls1.1, tls1.2 or tls1.3)");
}

TEST_CASE("The edges of the valid ranges are accepted") {
  CHECK(ParseOk({"--node-id=0"}).node_id == 0);
  CHECK(ParseOk({"--max-deflate-level=1"}).max_deflate_level == 1);
  CHECK(ParseOk({"--max-rdy-count=0"}).max_rdy_count == 0);
  CHECK(ParseOk({"--e2e-processing-latency-percentile=1"}).e2e_processing_latency_percentiles ==
        std::vector<std::string>{"1"});
}

TEST_CASE("Requiring TLS needs a certificate and a key") {
  CHECK(ParseError({"--tls-required"}) ==
        "cannot require TLS client connections (--tls-required, --tls-client-auth-policy) "
        "without --tls-cert and --tls-key");
  CHECK(ParseError({"--tls-client-auth-policy=require", "--tls-cert=/c"}) ==
        "cannot require TLS client connections (--tls-required, --tls-client-auth-policy) "
        "without --tls-cert and --tls-key");
  NsqdOptions o = ParseOk({"--tls-required", "--tls-cert=/c", "--tls-key=/k"});
  CHECK(o.tls_required == "true");
}

TEST_CASE("A client auth policy turns tls-required from false into true") {
  NsqdOptions o = ParseOk({"--tls-client-auth-policy=require", "--tls-cert=/c", "--tls-key=/k"});
  CHECK(o.tls_required == "true");
  CHECK(Json(o, "tls_required") == "2");
}

TEST_CASE("Named settings are normalised to their canonical spelling") {
  NsqdOptions o = ParseOk({"--log-level=WARN", "--tls-required=FALSE", "--tls-min-version=TLS1.3"});
  CHECK(o.log_level == "warn");
  CHECK(o.tls_required == "false");
  CHECK(o.tls_min_version == "tls1.3");
  CHECK(ParseOk({"--tls-min-version="}).tls_min_version == "tls1.0");
  CHECK(ParseOk({"--tls-required=0"}).tls_required == "false");
}

TEST_CASE("E2E percentiles may be repeated or comma-separated and are kept in descending order") {
  NsqdOptions o = ParseOk({"--e2e-processing-latency-percentile=0.95",
                           "--e2e-processing-latency-percentile", "1.0,0.99"});
  CHECK(o.e2e_processing_latency_percentiles == std::vector<std::string>{"1", "0.99", "0.95"});
  CHECK(Json(o, "e2e_processing_latency_percentiles") == "[1,0.99,0.95]");
}

TEST_CASE("The deprecated --verbose and --worker-id flags are accepted and change nothing") {
  NsqdOptions with = ParseOk({"--verbose", "--worker-id"});
  NsqdOptions without = ParseOk({});
  CHECK(with.log_level == without.log_level);
  CHECK(with.node_id == without.node_id);
}

TEST_CASE("--version and --help are reported to the caller") {
  absl::StatusOr<NsqdCommandLine> version = Parse({"--version"});
  REQUIRE(version.ok());
  CHECK(version->show_version);
  CHECK_FALSE(version->show_help);

  absl::StatusOr<NsqdCommandLine> help = Parse({"--help"});
  REQUIRE(help.ok());
  CHECK(help->show_help);
  CHECK(help->help_text.rfind("Usage of nsqd:\n", 0) == 0);
  CHECK(help->help_text.find("--lookupd-tcp-address") != std::string::npos);
  CHECK(help->help_text.find("--mem-queue-size int") != std::string::npos);

  CHECK(Parse({"-h"})->show_help);
}

TEST_CASE("The upstream example config file is loaded, and flags override it") {
  TempFile file(R"(
## upstream contrib/nsqd.cfg.example values that differ from the defaults
max_msg_size = 1024768
max_body_size = 5123840
max_output_buffer_timeout = "1s"
e2e_processing_latency_percentiles = [1.0, 0.99, 0.95]
nsqlookupd_tcp_addresses = ["127.0.0.1:4160"]
id = 12
log_level = "debug"
tls_required = false
tls_min_version = "tls1.2"
statsd_mem_stats = true
msg_timeout = "30s"
some_future_option = 1
)");
  NsqdOptions o = ParseOk({"--config", file.path(), "--msg-timeout=45s"});
  CHECK(o.max_msg_size == 1024768);
  CHECK(o.max_body_size == 5123840);
  CHECK(o.max_output_buffer_timeout == absl::Seconds(1));
  CHECK(o.e2e_processing_latency_percentiles == std::vector<std::string>{"1", "0.99", "0.95"});
  CHECK(o.nsqlookupd_tcp_addresses == std::vector<std::string>{"127.0.0.1:4160"});
  CHECK(o.node_id == 12);
  CHECK(o.log_level == "debug");
  CHECK(o.tls_required == "false");
  CHECK(o.tls_min_version == "tls1.2");
  CHECK(o.msg_timeout == absl::Seconds(45));  // flag > file
  CHECK(o.mem_queue_size == 10000);           // default

  CHECK(Json(o, "max_output_buffer_timeout") == "1000000000");
  CHECK(Json(o, "nsqlookupd_tcp_addresses") == "[\"127.0.0.1:4160\"]");
  CHECK(Json(o, "e2e_processing_latency_percentiles") == "[1,0.99,0.95]");
  CHECK(Json(o, "log_level") == "1");
  CHECK(Json(o, "tls_min_version") == "771");
}

TEST_CASE("A config file can set tls_required as a string or a boolean") {
  TempFile as_string("tls_required = \"tcp-https\"\ntls_cert = \"/c\"\ntls_key = \"/k\"\n");
  NsqdOptions o = ParseOk({"--config", as_string.path()});
  CHECK(o.tls_required == "tcp-https");
  CHECK(Json(o, "tls_required") == "1");

  TempFile as_bool("tls_required = true\ntls_cert = \"/c\"\ntls_key = \"/k\"\n");
  CHECK(ParseOk({"--config", as_bool.path()}).tls_required == "true");
}

TEST_CASE("Config file errors name the key, and settings from the file are validated") {
  TempFile bad_type("max_msg_size = \"big\"\n");
  CHECK(ParseError({"--config", bad_type.path()}).find("key max_msg_size") != std::string::npos);

  TempFile bad_id("id = 4096\n");
  CHECK(ParseError({"--config", bad_id.path()}) == "--node-id must be in [0,1024), got 4096");

  CHECK(ParseError({"--config=/nonexistent.toml"}).find("cannot read config file") !=
        std::string::npos);
}

TEST_CASE("GET /config renders the defaults as Go nsqd does") {
  NsqdOptions o = ParseOk({});
  std::map<std::string, std::string> want = {
      {"log_level", "2"},
      {"log_prefix", "\"[nsqd] \""},
      {"tcp_address", "\"0.0.0.0:4150\""},
      {"http_address", "\"0.0.0.0:4151\""},
      {"https_address", "\"0.0.0.0:4152\""},
      {"broadcast_tcp_port", "0"},
      {"broadcast_http_port", "0"},
      {"nsqlookupd_tcp_addresses", "[]"},
      {"auth_http_addresses", "[]"},
      {"auth_http_request_method", "\"get\""},
      {"http_client_connect_timeout", "2000000000"},
      {"http_client_request_timeout", "5000000000"},
      {"topology_region", "\"\""},
      {"topology_zone", "\"\""},
      {"enable_experiment", "[]"},
      {"data_path", "\"\""},
      {"mem_queue_size", "10000"},
      {"max_bytes_per_file", "104857600"},
      {"sync_every", "2500"},
      {"sync_timeout", "2000000000"},
      {"queue_scan_worker_pool_max", "4"},
      {"queue_scan_selection_count", "20"},
      {"msg_timeout", "60000000000"},
      {"max_msg_timeout", "900000000000"},
      {"max_msg_size", "1048576"},
      {"max_body_size", "5242880"},
      {"max_req_timeout", "3600000000000"},
      {"max_heartbeat_interval", "60000000000"},
      {"max_rdy_count", "2500"},
      {"max_output_buffer_size", "65536"},
      {"max_output_buffer_timeout", "30000000000"},
      {"min_output_buffer_timeout", "25000000"},
      {"output_buffer_timeout", "250000000"},
      {"max_channel_consumers", "0"},
      {"statsd_address", "\"\""},
      {"statsd_prefix", "\"nsq.%s\""},
      {"statsd_interval", "60000000000"},
      {"statsd_mem_stats", "true"},
      {"statsd_udp_packet_size", "508"},
      {"statsd_exclude_ephemeral", "false"},
      {"e2e_processing_latency_percentiles", "[]"},
      {"e2e_processing_latency_window_time", "600000000000"},
      {"tls_cert", "\"\""},
      {"tls_key", "\"\""},
      {"tls_client_auth_policy", "\"\""},
      {"tls_root_ca_file", "\"\""},
      {"tls_required", "0"},
      {"tls_min_version", "769"},
      {"deflate", "true"},
      {"max_deflate_level", "6"},
      {"snappy", "true"},
  };
  for (const auto& [key, json] : want) {
    CAPTURE(key);
    CHECK(Json(o, key) == json);
  }
  CHECK(Json(o, "id") == std::to_string(o.node_id));
  CHECK(Json(o, "broadcast_address") == "\"" + o.broadcast_address + "\"");
}

TEST_CASE("GET /config knows only config keys") {
  NsqdOptions o = ParseOk({});
  for (const char* key : {"node_id", "lookupd_tcp_address", "config", "version", "verbose",
                          "worker_id", "client_timeout", "nope", ""}) {
    CAPTURE(key);
    CHECK_FALSE(NsqdConfigValueJson(o, key).has_value());
  }
}

TEST_CASE("GET /config reflects changed options") {
  NsqdOptions o = ParseOk({"--lookupd-tcp-address=a:4160", "--lookupd-tcp-address=b:4160",
                           "--log-level=error", "--msg-timeout=1.5s"});
  CHECK(Json(o, "nsqlookupd_tcp_addresses") == "[\"a:4160\",\"b:4160\"]");
  CHECK(Json(o, "log_level") == "4");
  CHECK(Json(o, "msg_timeout") == "1500000000");
}

// What CheckSupported says about a command line, "" when nsqd would start.
std::string Unsupported(std::initializer_list<std::string> args) {
  return std::string(CheckSupported(ParseOk(args)).message());
}

TEST_CASE("The defaults are all supported") { CHECK(Unsupported({}) == ""); }

TEST_CASE("End-to-end percentiles and the topology experiment are supported") {
  CHECK(Unsupported({"--e2e-processing-latency-percentile=0.99,0.5",
                     "--e2e-processing-latency-window-time=1m"}) == "");
  CHECK(Unsupported({"--enable-experiment=topology-aware-consumption"}) == "");
}

TEST_CASE("statsd is supported; an address, interval or packet size that cannot work is refused") {
  CHECK(Unsupported({"--statsd-address=127.0.0.1:8125", "--statsd-prefix=x.%s",
                     "--statsd-interval=5s", "--statsd-udp-packet-size=1400"}) == "");
  CHECK(ParseError({"--statsd-address=nohostport"}).rfind("invalid --statsd-address", 0) == 0);
  CHECK(ParseError({"--statsd-address=h:1", "--statsd-interval=0s"}) ==
        "--statsd-interval must be positive, got 0");
  CHECK(ParseError({"--statsd-address=h:1", "--statsd-udp-packet-size=0"}) ==
        "--statsd-udp-packet-size must be in [1,65507], got 0");
  // Without an address nothing is sent, so nothing is checked (as nsqd).
  CHECK(ParseOk({"--statsd-interval=0s"}).statsd_interval == absl::ZeroDuration());
}

TEST_CASE("A flag whose feature is missing is refused with a message naming it") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--enable-experiment=other"}, "--enable-experiment=other is not supported"},
      {{"--max-bytes-per-file=1000"}, "--max-bytes-per-file has no effect"},
      {{"--queue-scan-worker-pool-max=8"}, "--queue-scan-worker-pool-max has no effect"},
      {{"--queue-scan-selection-count=30"}, "--queue-scan-selection-count has no effect"},
  };
  for (const auto& [args, want] : cases) {
    CAPTURE(args.front());
    std::vector<const char*> argv = {"nsqd"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    auto parsed = ParseNsqdCommandLine(static_cast<int>(argv.size()), argv.data());
    REQUIRE(parsed.ok());
    std::string message(CheckSupported(parsed->options).message());
    CHECK_MESSAGE(message.rfind(want, 0) == 0, message);
  }
}

TEST_CASE("Settings that only matter with a refused feature are accepted, as in nsqd") {
  CHECK(Unsupported({"--tls-cert=/c", "--tls-key=/k", "--tls-required", "--snappy=false",
                     "--deflate=true", "--auth-http-address=127.0.0.1:4181"}) == "");
  CHECK(Unsupported({"--https-address=127.0.0.1:4152", "--tls-min-version=tls1.2",
                     "--statsd-prefix=x.%s", "--statsd-interval=5s", "--statsd-mem-stats=false",
                     "--statsd-udp-packet-size=1400", "--statsd-exclude-ephemeral",
                     "--e2e-processing-latency-window-time=1m", "--max-deflate-level=9",
                     "--auth-http-request-method=post", "--snappy=false", "--deflate=false",
                     "--max-bytes-per-file=104857600", "--queue-scan-worker-pool-max=4",
                     "--queue-scan-selection-count=20"}) == "");
}

}  // namespace
}  // namespace nsq::nsqd
