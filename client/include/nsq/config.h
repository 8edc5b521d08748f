// Config: the options of a Producer or Consumer, named and defaulted as go-nsq's Config so
// settings carry over from Go services unchanged.
//
//   nsq::client::Config config;
//   config.max_in_flight = 200;
//   config.lookupd_poll_interval = std::chrono::seconds(15);
//   if (absl::Status s = config.Validate(); !s.ok()) { ... }
//
// Settings of Go services carry over by name with Set(), which takes go-nsq's option names and
// value syntax (durations as Go writes them, "60s", "1m30s", "250ms", or an integer of
// milliseconds; booleans as strconv.ParseBool: "true", "1", "f", ...):
//
//   for (const auto& [name, value] : settings) {        // e.g. {"max_in_flight", "200"},
//     if (absl::Status s = config.Set(name, value); !s.ok()) return s;  // {"read_timeout", "30s"}
//   }
//
// A Config is a plain value: copy it into a Producer or Consumer; later changes to your copy
// do not affect them. Durations are milliseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace nsq::client {

enum class LogLevel { kDebug = 1, kInfo = 2, kWarning = 3, kError = 4 };

// Receives every log line at or above Config::log_level. Called from the library's threads,
// possibly concurrently: it must be thread-safe and must not block for long.
using Logger = std::function<void(LogLevel level, const std::string& line)>;

// How a consumer's backoff duration grows with its level n (go-nsq: backoff_strategy).
enum class BackoffStrategy {
  kExponential,  // "exponential": backoff_multiplier * 2^n
  kFullJitter,   // "full_jitter": a random duration in [0, backoff_multiplier * 2^n)
};

struct Config {
  // Fills client_id (the short hostname), hostname and user_agent ("nsq-cpp/<version>").
  Config();

  // Connection timeouts (go-nsq: dial_timeout, read_timeout, write_timeout). read_timeout
  // must exceed heartbeat_interval: nsqd's heartbeats are what keep an idle connection alive.
  std::chrono::milliseconds dial_timeout{1000};   // > 0
  std::chrono::milliseconds read_timeout{60000};  // 100 ms .. 5 min
  std::chrono::milliseconds write_timeout{1000};  // 100 ms .. 5 min
  // The local address connections to nsqd are made from: "ip" or "ip:port"; empty lets the
  // system choose (go-nsq: local_addr).
  std::string local_addr;

  // Discovery: how often each nsqlookupd is asked for the topic's producers, plus a random
  // extra wait of up to lookupd_poll_jitter * lookupd_poll_interval. Without lookupd, also
  // the wait before reconnecting to an nsqd whose connection dropped.
  std::chrono::milliseconds lookupd_poll_interval{60000};  // 10 ms .. 5 min
  double lookupd_poll_jitter = 0.3;                        // 0 .. 1

  // Requeue delay of a failed message: default_requeue_delay * attempts, at most
  // max_requeue_delay.
  std::chrono::milliseconds max_requeue_delay{15 * 60 * 1000};  // 0 .. 60 min
  std::chrono::milliseconds default_requeue_delay{90000};       // 0 .. 60 min

  // Consumer backoff after failures: backoff_multiplier * 2^n, at most max_backoff_duration
  // (0 disables backoff).
  std::chrono::milliseconds backoff_multiplier{1000};      // 0 .. 60 min
  std::chrono::milliseconds max_backoff_duration{120000};  // 0 .. 60 min
  BackoffStrategy backoff_strategy = BackoffStrategy::kExponential;

  // A message delivered more often than this goes to the give-up handler; 0 = no limit.
  int max_attempts = 5;  // 0 .. 65535
  // Messages a consumer holds at once, across all its connections.
  int max_in_flight = 1;  // >= 0

  // When there are more connections than max_in_flight, RDY moves between them: every
  // rdy_redistribute_interval a connection that held RDY for min(rdy_redistribute_interval,
  // low_rdy_timeout), or saw no message for low_rdy_idle_timeout, gives it back to one that
  // is waiting.
  std::chrono::milliseconds rdy_redistribute_interval{5000};  // 1 ms .. 5 s
  std::chrono::milliseconds low_rdy_idle_timeout{10000};      // 1 s .. 5 min
  std::chrono::milliseconds low_rdy_timeout{30000};           // 1 s .. 5 min

  // Sent to nsqd in IDENTIFY. heartbeat_interval -1 disables heartbeats (consumers need
  // them); output_buffer_size/timeout -1 disables nsqd's output buffering; msg_timeout 0
  // keeps nsqd's --msg-timeout; sample_rate 0 delivers every message.
  std::chrono::milliseconds heartbeat_interval{30000};
  int64_t output_buffer_size = 16384;
  std::chrono::milliseconds output_buffer_timeout{250};
  std::chrono::milliseconds msg_timeout{0};
  int sample_rate = 0;  // 0 .. 99

  std::string client_id;
  std::string hostname;
  std::string user_agent;
  // Sent with AUTH when nsqd's IDENTIFY reply says auth_required (nsqd started with
  // --auth-http-address). nsqd refusing it (E_AUTH_FAILED, E_UNAUTHORIZED) fails the connection
  // with PermissionDenied; so does an empty secret when nsqd requires one.
  std::string auth_secret;

  // TLS (IDENTIFY tls_v1): nsqd answers the IDENTIFY in clear, then the connection continues
  // over TLS. nsqd must agree (started with --tls-cert/--tls-key): a connection where it does
  // not fails rather than going on in clear.
  bool tls_v1 = false;
  struct TlsConfig {
    // PEM file of the CAs nsqd's certificate must chain to; empty: the system's CAs.
    std::string ca_file;
    // PEM certificate (chain) and key presented to nsqd (--tls-client-auth-policy); both or
    // neither.
    std::string cert_file;
    std::string key_file;
    // Accept any server certificate, unverified (tests only: anyone in the middle can read
    // and change the traffic).
    bool insecure_skip_verify = false;
    // The name sent as SNI and checked against nsqd's certificate (DNS name or IP address);
    // empty: the host part of the nsqd address.
    std::string server_name;
    // The oldest protocol version accepted: "tls1.0", "tls1.1", "tls1.2" or "tls1.3".
    std::string min_version = "tls1.2";
  } tls_config;  // used only with tls_v1

  // Compression of the connection in both directions (IDENTIFY deflate / snappy), on top of
  // TLS when both are on; at most one of the two. nsqd may decline (--deflate=false,
  // --snappy=false): the connection then stays uncompressed. deflate_level is the level this
  // client compresses with and the one it asks nsqd to use (nsqd caps it at its
  // --max-deflate-level).
  bool deflate = false;
  int deflate_level = 6;  // 1 .. 9
  bool snappy = false;

  // --- Not go-nsq options: this library's own. ---

  // Producer: publishes accepted but not yet answered by nsqd (PublishAsync callbacks not yet
  // run), counted in messages (an MPUB counts its bodies) and in command bytes. At either
  // limit a publish waits for room (block_when_full, the default) or fails at once with
  // ResourceExhausted. A publish made from a producer callback never waits (it would wait on
  // itself): there it fails when full. A single publish larger than a limit is accepted
  // when nothing else is outstanding.
  int64_t max_outstanding_messages = 65536;      // >= 1
  int64_t max_outstanding_bytes = 64 << 20;      // >= 1
  bool block_when_full = true;
  // Producer: after a failed dial an nsqd is not tried again for reconnect_min_backoff *
  // 2^(failures-1), at most reconnect_max_backoff, times a random factor in [0.5, 1]; a
  // connection that was up and dropped is redialled at once.
  std::chrono::milliseconds reconnect_min_backoff{100};    // 1 ms .. 1 h
  std::chrono::milliseconds reconnect_max_backoff{10000};  // >= reconnect_min_backoff, <= 1 h
  // Producer: blocking calls (Publish, MultiPublish, DeferredPublish, Ping) made while no
  // async publish is outstanding are written and answered on the calling thread, over a
  // connection of their own: one write and one read per round trip, the raw wire's pattern,
  // instead of two thread hand-offs through the producer's I/O thread. A producer that only
  // makes blocking calls has only this connection; one that also publishes asynchronously has
  // a second (the I/O thread's) to the same nsqd. Plain connections only (not used with
  // tls_v1, snappy, deflate, auth_secret or local_addr); one caller at a time uses it, others
  // take the I/O thread's path. False: every call takes the I/O thread's path, one connection.
  bool sync_publish_on_caller_thread = true;
  // Consumer: how long Stop() waits for handlers to answer the messages they hold (go-nsq
  // waits 30 s); then the connections close, nsqd redelivers what is unanswered, and the
  // number is logged.
  std::chrono::milliseconds drain_timeout{30000};  // 0 .. 1 h

  LogLevel log_level = LogLevel::kInfo;
  // Empty: lines go to stderr.
  Logger logger;

  // OK, or InvalidArgument naming the first option out of range and its allowed range.
  absl::Status Validate() const;

  // Sets one option by go-nsq's name ("-" may stand for "_": "max-in-flight"), with go-nsq's
  // coercions: a duration from a Go duration string ("1m30s", "250ms", "-1ms") or an integer
  // of milliseconds; a bool from "true"/"false"/"1"/"0"/"t"/"f"/... or an integer (non-zero is
  // true); numbers from their decimal text. Range-checked as Validate() does; the Config is
  // unchanged on error. InvalidArgument for a value that does not fit, naming the option;
  // InvalidArgument for an unknown name, listing the closest option names.
  //
  // go-nsq names: dial_timeout read_timeout write_timeout local_addr lookupd_poll_interval
  // lookupd_poll_jitter max_requeue_delay default_requeue_delay backoff_strategy
  // ("exponential" or "full_jitter") max_backoff_duration backoff_multiplier max_attempts
  // low_rdy_idle_timeout low_rdy_timeout rdy_redistribute_interval client_id hostname
  // user_agent heartbeat_interval sample_rate tls_v1 deflate deflate_level snappy
  // output_buffer_size output_buffer_timeout max_in_flight msg_timeout auth_secret, and the
  // TLS ones tls_root_ca_file tls_insecure_skip_verify tls_cert tls_key tls_min_version.
  // tls_config (a Go *tls.Config) cannot be given as a value: it is refused with a pointer to
  // the tls_* options. This library's own: max_outstanding_messages max_outstanding_bytes
  // block_when_full reconnect_min_backoff reconnect_max_backoff drain_timeout
  // sync_publish_on_caller_thread tls_server_name log_level ("debug", "info", "warning", "error").
  absl::Status Set(std::string_view option, std::string_view value);
  absl::Status Set(std::string_view option, const char* value);
  absl::Status Set(std::string_view option, bool value);
  absl::Status Set(std::string_view option, int value);
  absl::Status Set(std::string_view option, int64_t value);
  absl::Status Set(std::string_view option, double value);
  absl::Status Set(std::string_view option, std::chrono::nanoseconds value);
};

// The library version, as in the default user_agent.
const char* Version();

}  // namespace nsq::client
