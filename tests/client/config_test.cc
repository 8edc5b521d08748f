// Config defaults and validation, and what the client does with bad arguments before any I/O.
#include "nsq/config.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nsq/consumer.h"
#include "nsq/lookupd.h"
#include "nsq/producer.h"

#define CLIENT_CHECK_OK(expr)                                      \
  do {                                                             \
    const absl::Status client_status_ = (expr);                    \
    CHECK_MESSAGE(client_status_.ok(), client_status_.ToString()); \
  } while (0)

namespace nsq::client {
namespace {

using namespace std::chrono_literals;

std::string ErrorOf(const Config& config) {
  absl::Status status = config.Validate();
  CHECK(absl::IsInvalidArgument(status));
  return std::string(status.message());
}

TEST_CASE("The default Config is valid and carries go-nsq's defaults") {
  Config config;
  CHECK(config.Validate().ok());
  CHECK(config.dial_timeout == 1s);
  CHECK(config.read_timeout == 60s);
  CHECK(config.write_timeout == 1s);
  CHECK(config.lookupd_poll_interval == 60s);
  CHECK(config.lookupd_poll_jitter == doctest::Approx(0.3));
  CHECK(config.max_requeue_delay == 15min);
  CHECK(config.default_requeue_delay == 90s);
  CHECK(config.backoff_multiplier == 1s);
  CHECK(config.max_backoff_duration == 2min);
  CHECK(config.max_attempts == 5);
  CHECK(config.max_in_flight == 1);
  CHECK(config.heartbeat_interval == 30s);
  CHECK(config.output_buffer_size == 16384);
  CHECK(config.output_buffer_timeout == 250ms);
  CHECK(config.msg_timeout == 0ms);
  CHECK(config.sample_rate == 0);
  CHECK(config.user_agent == std::string("nsq-cpp/") + Version());
  CHECK(!config.hostname.empty());
  CHECK(config.client_id.find('.') == std::string::npos);
  CHECK(config.hostname.rfind(config.client_id, 0) == 0);
}

TEST_CASE("Validate names the option that is out of range") {
  Config config;
  SUBCASE("max_in_flight") {
    config.max_in_flight = -1;
    CHECK(ErrorOf(config).find("max_in_flight = -1") != std::string::npos);
  }
  SUBCASE("sample_rate") {
    config.sample_rate = 100;
    CHECK(ErrorOf(config).find("sample_rate = 100 is out of range [0, 99]") != std::string::npos);
  }
  SUBCASE("max_attempts") {
    config.max_attempts = 70000;
    CHECK(ErrorOf(config).find("max_attempts") != std::string::npos);
  }
  SUBCASE("read_timeout") {
    config.read_timeout = 50ms;
    CHECK(ErrorOf(config).find("read_timeout = 50ms") != std::string::npos);
  }
  SUBCASE("lookupd_poll_jitter") {
    config.lookupd_poll_jitter = 1.5;
    CHECK(ErrorOf(config).find("lookupd_poll_jitter") != std::string::npos);
  }
  SUBCASE("a heartbeat not shorter than read_timeout") {
    config.heartbeat_interval = 60s;
    CHECK(ErrorOf(config).find("must be less than read_timeout") != std::string::npos);
  }
  SUBCASE("a heartbeat below one second") {
    config.heartbeat_interval = 500ms;
    CHECK(ErrorOf(config).find("heartbeat_interval") != std::string::npos);
  }
  SUBCASE("dial_timeout") {
    config.dial_timeout = 0ms;
    CHECK(ErrorOf(config).find("dial_timeout = 0ms is out of range (must be >= 1ms)") !=
          std::string::npos);
  }
  SUBCASE("deflate_level") {
    config.deflate_level = 10;
    CHECK(ErrorOf(config).find("deflate_level = 10 is out of range [1, 9]") != std::string::npos);
  }
  SUBCASE("snappy and deflate together, as go-nsq") {
    config.snappy = true;
    config.deflate = true;
    CHECK(ErrorOf(config).find("snappy and deflate") != std::string::npos);
  }
  SUBCASE("tls_config.min_version") {
    config.tls_config.min_version = "ssl3";
    CHECK(ErrorOf(config).find("tls_config.min_version = \"ssl3\"") != std::string::npos);
  }
  SUBCASE("a client certificate without its key") {
    config.tls_config.cert_file = "client.pem";
    CHECK(ErrorOf(config).find("cert_file and tls_config.key_file") != std::string::npos);
  }
}

TEST_CASE("TLS, snappy and deflate are off by default; TLS verifies nsqd from TLS 1.2 on") {
  Config config;
  CHECK(!config.tls_v1);
  CHECK(!config.snappy);
  CHECK(!config.deflate);
  CHECK(config.deflate_level == 6);
  CHECK(config.tls_config.ca_file.empty());
  CHECK(!config.tls_config.insecure_skip_verify);
  CHECK(config.tls_config.server_name.empty());
  CHECK(config.tls_config.min_version == "tls1.2");
  for (const char* version : {"tls1.0", "tls1.1", "tls1.2", "tls1.3"}) {
    config.tls_config.min_version = version;
    CHECK(config.Validate().ok());
  }
}

TEST_CASE("TLS files that cannot be loaded fail the Producer and Consumer before any I/O") {
  Config config;
  config.tls_v1 = true;
  config.tls_config.ca_file = "/nonexistent/ca.pem";
  Producer producer("127.0.0.1:4150", config);
  CHECK(absl::IsInvalidArgument(producer.status()));
  CHECK(
      std::string(producer.status().message()).find("tls_config.ca_file \"/nonexistent/ca.pem\"") !=
      std::string::npos);

  config.tls_config.ca_file.clear();
  config.tls_config.cert_file = "/nonexistent/client.pem";
  config.tls_config.key_file = "/nonexistent/client.key";
  Consumer consumer("t", "c", config);
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  absl::Status status = consumer.ConnectToNsqd("127.0.0.1:4150");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("tls_config.cert_file") != std::string::npos);
}

TEST_CASE("Heartbeats may be disabled with -1") {
  Config config;
  config.heartbeat_interval = -1ms;
  CHECK(config.Validate().ok());
}

TEST_CASE("A Producer with a bad address or Config fails every command with that error") {
  Producer bad_address("no-port-here", Config());
  CHECK(absl::IsInvalidArgument(bad_address.status()));
  CHECK(absl::IsInvalidArgument(bad_address.Publish("t", "x")));

  Config config;
  config.max_in_flight = -5;
  Producer bad_config("127.0.0.1:4150", config);
  absl::Status status = bad_config.Publish("t", "x");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("max_in_flight") != std::string::npos);
}

TEST_CASE("A Consumer refuses to connect without a handler, with bad names, or after Stop") {
  Consumer consumer("t", "c", Config());
  CHECK(absl::IsFailedPrecondition(consumer.ConnectToNsqd("127.0.0.1:1")));
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CHECK(absl::IsInvalidArgument(consumer.ConnectToNsqd("nonsense")));
  CHECK(absl::IsInvalidArgument(consumer.ConnectToNsqLookupd("also:nonsense")));
  consumer.Stop();
  CHECK(absl::IsFailedPrecondition(consumer.ConnectToNsqd("127.0.0.1:1")));

  Consumer bad_topic("a topic", "c", Config());
  bad_topic.SetHandler([](Message&) { return absl::OkStatus(); });
  absl::Status status = bad_topic.ConnectToNsqd("127.0.0.1:1");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("topic name \"a topic\"") != std::string::npos);
}

TEST_CASE("Config::Set takes every go-nsq option name, with go-nsq's value syntax") {
  Config config;
  struct Case {
    const char* name;
    const char* value;
    std::function<bool(const Config&)> applied;
  };
  const std::vector<Case> cases = {
      {"dial_timeout", "2s", [](const Config& c) { return c.dial_timeout == 2s; }},
      {"read_timeout", "1m30s", [](const Config& c) { return c.read_timeout == 90s; }},
      {"write_timeout", "500ms", [](const Config& c) { return c.write_timeout == 500ms; }},
      {"local_addr", "127.0.0.1", [](const Config& c) { return c.local_addr == "127.0.0.1"; }},
      {"lookupd_poll_interval", "15s",
       [](const Config& c) { return c.lookupd_poll_interval == 15s; }},
      {"lookupd_poll_jitter", "0.5", [](const Config& c) { return c.lookupd_poll_jitter == 0.5; }},
      {"max_requeue_delay", "30m", [](const Config& c) { return c.max_requeue_delay == 30min; }},
      {"default_requeue_delay", "1.5s",
       [](const Config& c) { return c.default_requeue_delay == 1500ms; }},
      {"backoff_strategy", "full_jitter",
       [](const Config& c) { return c.backoff_strategy == BackoffStrategy::kFullJitter; }},
      {"max_backoff_duration", "1h", [](const Config& c) { return c.max_backoff_duration == 1h; }},
      {"backoff_multiplier", "250ms",
       [](const Config& c) { return c.backoff_multiplier == 250ms; }},
      {"max_attempts", "10", [](const Config& c) { return c.max_attempts == 10; }},
      {"low_rdy_idle_timeout", "20s",
       [](const Config& c) { return c.low_rdy_idle_timeout == 20s; }},
      {"low_rdy_timeout", "2s", [](const Config& c) { return c.low_rdy_timeout == 2s; }},
      {"rdy_redistribute_interval", "100ms",
       [](const Config& c) { return c.rdy_redistribute_interval == 100ms; }},
      {"client_id", "worker-7", [](const Config& c) { return c.client_id == "worker-7"; }},
      {"hostname", "w7.example", [](const Config& c) { return c.hostname == "w7.example"; }},
      {"user_agent", "svc/2", [](const Config& c) { return c.user_agent == "svc/2"; }},
      {"heartbeat_interval", "20s", [](const Config& c) { return c.heartbeat_interval == 20s; }},
      {"sample_rate", "10", [](const Config& c) { return c.sample_rate == 10; }},
      {"tls_v1", "true", [](const Config& c) { return c.tls_v1; }},
      {"deflate", "1", [](const Config& c) { return c.deflate; }},
      {"deflate_level", "3", [](const Config& c) { return c.deflate_level == 3; }},
      {"snappy", "false", [](const Config& c) { return !c.snappy; }},
      {"output_buffer_size", "65536",
       [](const Config& c) { return c.output_buffer_size == 65536; }},
      {"output_buffer_timeout", "-1ms",
       [](const Config& c) { return c.output_buffer_timeout == -1ms; }},
      {"max_in_flight", "200", [](const Config& c) { return c.max_in_flight == 200; }},
      {"msg_timeout", "2m", [](const Config& c) { return c.msg_timeout == 2min; }},
      {"auth_secret", "s3cret", [](const Config& c) { return c.auth_secret == "s3cret"; }},
      {"tls_root_ca_file", "/etc/ca.pem",
       [](const Config& c) { return c.tls_config.ca_file == "/etc/ca.pem"; }},
      {"tls_insecure_skip_verify", "t",
       [](const Config& c) { return c.tls_config.insecure_skip_verify; }},
      {"tls_cert", "/etc/c.pem",
       [](const Config& c) { return c.tls_config.cert_file == "/etc/c.pem"; }},
      {"tls_key", "/etc/c.key",
       [](const Config& c) { return c.tls_config.key_file == "/etc/c.key"; }},
      {"tls_min_version", "tls1.1",
       [](const Config& c) { return c.tls_config.min_version == "tls1.1"; }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const absl::Status status = config.Set(c.name, c.value);
    CHECK_MESSAGE(status.ok(), status.ToString());
    CHECK(c.applied(config));
  }
  CHECK(config.Validate().ok());
  // go-nsq's 35th option holds a Go object: refused, pointing to the options that replace it.
  const absl::Status tls_config = config.Set("tls_config", "anything");
  CHECK(absl::IsInvalidArgument(tls_config));
  CHECK(absl::StrContains(tls_config.message(), "tls_root_ca_file"));
  // This library's own options go through Set too.
  CLIENT_CHECK_OK(config.Set("max_outstanding_messages", "1000"));
  CLIENT_CHECK_OK(config.Set("max_outstanding_bytes", 1 << 20));
  CLIENT_CHECK_OK(config.Set("block_when_full", false));
  CLIENT_CHECK_OK(config.Set("sync_publish_on_caller_thread", "false"));
  CLIENT_CHECK_OK(config.Set("reconnect_min_backoff", "50ms"));
  CLIENT_CHECK_OK(config.Set("reconnect_max_backoff", "5s"));
  CLIENT_CHECK_OK(config.Set("drain_timeout", std::chrono::seconds(5)));
  CLIENT_CHECK_OK(config.Set("tls_server_name", "nsqd.internal"));
  CLIENT_CHECK_OK(config.Set("log_level", "warning"));
  CHECK(config.max_outstanding_messages == 1000);
  CHECK(config.max_outstanding_bytes == 1 << 20);
  CHECK(!config.block_when_full);
  CHECK(!config.sync_publish_on_caller_thread);
  CHECK(config.reconnect_max_backoff == 5s);
  CHECK(config.drain_timeout == 5s);
  CHECK(config.tls_config.server_name == "nsqd.internal");
  CHECK(config.log_level == LogLevel::kWarning);
}

TEST_CASE("Config::Set coerces as go-nsq: integers are milliseconds, bad values leave it unchanged") {
  Config config;
  CLIENT_CHECK_OK(config.Set("read_timeout", 45000));  // an integer duration is milliseconds
  CHECK(config.read_timeout == 45s);
  CLIENT_CHECK_OK(config.Set("write_timeout", std::chrono::seconds(2)));
  CHECK(config.write_timeout == 2s);
  CLIENT_CHECK_OK(config.Set("max-in-flight", 7));  // '-' for '_', as go-nsq
  CHECK(config.max_in_flight == 7);
  CLIENT_CHECK_OK(config.Set("lookupd_poll_interval", "2m3.5s"));
  CHECK(config.lookupd_poll_interval == 123500ms);
  CLIENT_CHECK_OK(config.Set("default_requeue_delay", "1500us"));
  CHECK(config.default_requeue_delay == 1ms);
  CLIENT_CHECK_OK(config.Set("msg_timeout", "0"));
  CHECK(config.msg_timeout == 0ms);
  CLIENT_CHECK_OK(config.Set("snappy", 1));
  CHECK(config.snappy);
  CLIENT_CHECK_OK(config.Set("snappy", "FALSE"));
  CHECK(!config.snappy);
  CLIENT_CHECK_OK(config.Set("lookupd_poll_jitter", 0.25));
  CHECK(config.lookupd_poll_jitter == 0.25);

  const Config before = config;
  struct Bad {
    const char* name;
    const char* value;
    const char* says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"read_timeout", "60", "Go duration"},           // no unit: Go refuses it too
           {"read_timeout", "10ms", "read_timeout = 10ms is out of range"},
           {"read_timeout", "1x", "Go duration"},
           {"max_in_flight", "many", "an integer"},
           {"max_in_flight", "-1", "max_in_flight = -1 is out of range"},
           {"max_attempts", "70000", "max_attempts = 70000"},
           {"sample_rate", "1.5", "an integer"},
           {"snappy", "yes", "a bool"},
           {"lookupd_poll_jitter", "2", "lookupd_poll_jitter = 2 is out of range"},
           {"backoff_strategy", "linear", "exponential"},
           {"tls_min_version", "ssl3.0", "not supported"},
           {"tls_min_version", "tls9", "tls_config.min_version = \"tls9\""},
           {"local_addr", "my-host", "not an IP address"},
           {"heartbeat_interval", "500ms", "heartbeat_interval"},
           {"reconnect_max_backoff", "1ms", "reconnect_max_backoff = 1ms"},
           {"log_level", "loud", "debug, info"},
       }) {
    CAPTURE(bad.name);
    CAPTURE(bad.value);
    const absl::Status status = config.Set(bad.name, bad.value);
    CHECK(absl::IsInvalidArgument(status));
    CHECK_MESSAGE(absl::StrContains(status.message(), bad.says), status.ToString());
  }
  CHECK(config.read_timeout == before.read_timeout);
  CHECK(config.max_in_flight == before.max_in_flight);
  CHECK(config.max_attempts == before.max_attempts);
  CHECK(config.lookupd_poll_jitter == before.lookupd_poll_jitter);
  CHECK(config.local_addr.empty());
}

TEST_CASE("An unknown option name is an error listing the close ones") {
  Config config;
  struct Typo {
    const char* given;
    const char* suggested;
  };
  for (const Typo& typo : std::vector<Typo>{{"max_inflight", "max_in_flight"},
                                            {"maxInFlight", "max_in_flight"},
                                            {"read_timout", "read_timeout"},
                                            {"lookupd_poll_intervall", "lookupd_poll_interval"},
                                            {"tls_ca_file", "tls_root_ca_file"},
                                            {"timeout", "dial_timeout"}}) {
    const absl::Status status = config.Set(typo.given, "1");
    CHECK(absl::IsInvalidArgument(status));
    CHECK_MESSAGE(absl::StrContains(status.message(),
                                    absl::StrCat("unknown option \"", typo.given, "\"")),
                  status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), typo.suggested), status.ToString());
  }
  const absl::Status none = config.Set("zzz", "1");
  CHECK(absl::StrContains(none.message(), "nsq/config.h"));
}

TEST_CASE("Addresses are checked at the call: nsqd host:port; lookupd host:port or http:// URL") {
  Consumer consumer("t", "c", Config());
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  for (const char* good : {"127.0.0.1:4161", "http://127.0.0.1:4162", "http://127.0.0.1:4163/",
                           "http://localhost:4161/lookup", "[::1]:4161", ":4164"}) {
    CHECK_MESSAGE(consumer.ConnectToNsqLookupd(good).ok(), good);
  }
  for (const char* bad : {"https://127.0.0.1:4161", "ftp://127.0.0.1:4161", "http://",
                          "http://127.0.0.1", "127.0.0.1", "127.0.0.1:4161/lookup",
                          "http://127.0.0.1:4161/lookup?topic=x", "http://127.0.0.1:99999",
                          "host name:4161", "::1:4161", "127.0.0.1:0"}) {
    const absl::Status status = consumer.ConnectToNsqLookupd(bad);
    CHECK_MESSAGE(absl::IsInvalidArgument(status), bad, " → ", status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), bad), status.ToString());
  }
  for (const char* bad : {"http://127.0.0.1:4150", "127.0.0.1", "127.0.0.1:65536", "a b:4150"}) {
    const absl::Status status = consumer.ConnectToNsqd(bad);
    CHECK_MESSAGE(absl::IsInvalidArgument(status), bad, " → ", status.ToString());
    CHECK_MESSAGE(absl::IsInvalidArgument(Producer(bad, Config()).status()), bad);
  }
  CHECK(absl::IsInvalidArgument(
      Producer(std::vector<std::string>{"127.0.0.1:4150", "bad"}, Config()).status()));
  CHECK(absl::IsInvalidArgument(Producer(std::vector<std::string>{}, Config()).status()));
  CHECK(absl::IsInvalidArgument(LookupTopicProducers("https://127.0.0.1:4161", "t").status()));
  consumer.Stop();
}

}  // namespace
}  // namespace nsq::client
