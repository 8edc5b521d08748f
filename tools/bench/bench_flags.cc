#include "tools/bench/bench_flags.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/config/flag_set.h"

namespace nsq::bench {
namespace {

absl::Status BadValue(std::string_view flag, std::string_view value, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrFormat("invalid value \"%s\" for flag --%s: %s", value, flag, why));
}

absl::Status ParseInt(std::string_view flag, std::string_view value, int64_t min_value,
                      int64_t* out) {
  int64_t parsed = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (error != std::errc() || end != value.data() + value.size()) {
    return BadValue(flag, value, "not an integer");
  }
  if (parsed < min_value) {
    return BadValue(flag, value, absl::StrFormat("must be at least %d", min_value));
  }
  *out = parsed;
  return absl::OkStatus();
}

// Go's bool flag values.
absl::Status ParseBool(std::string_view flag, std::string_view value, bool* out) {
  if (value == "1" || value == "t" || value == "T" || value == "true" || value == "TRUE" ||
      value == "True") {
    *out = true;
  } else if (value == "0" || value == "f" || value == "F" || value == "false" ||
             value == "FALSE" || value == "False") {
    *out = false;
  } else {
    return BadValue(flag, value, "want true or false");
  }
  return absl::OkStatus();
}

// Applies one --name=value pair to *options.
absl::Status SetFlag(std::string_view name, std::string_view value, BenchOptions* options) {
  if (name == "nsqd-tcp-address") {
    if (value.find(':') == std::string_view::npos) return BadValue(name, value, "want host:port");
    options->nsqd_tcp_address = std::string(value);
  } else if (name == "topic") {
    if (value.empty()) return BadValue(name, value, "empty");
    options->topic = std::string(value);
  } else if (name == "channel") {
    if (value.empty()) return BadValue(name, value, "empty");
    options->channel = std::string(value);
  } else if (name == "runfor") {
    absl::StatusOr<absl::Duration> runfor = config::ParseGoDuration(value);
    if (!runfor.ok()) return BadValue(name, value, std::string(runfor.status().message()));
    options->runfor = absl::ToChronoNanoseconds(*runfor);
  } else if (name == "size") {
    return ParseInt(name, value, 1, &options->size);
  } else if (name == "batch-size") {
    return ParseInt(name, value, 1, &options->batch_size);
  } else if (name == "deadline") {
    if (value.empty()) {
      options->deadline.reset();
      return absl::OkStatus();
    }
    absl::StatusOr<std::chrono::system_clock::time_point> deadline = ParseDeadline(value);
    if (!deadline.ok()) return BadValue(name, value, std::string(deadline.status().message()));
    options->deadline = *deadline;
  } else if (name == "rdy") {
    return ParseInt(name, value, 0, &options->rdy);
  } else if (name == "connections") {
    return ParseInt(name, value, 1, &options->connections);
  } else if (name == "count") {
    return ParseInt(name, value, 0, &options->count);
  } else if (name == "pipeline") {
    return ParseInt(name, value, 1, &options->pipeline);
  } else if (name == "async") {
    return ParseBool(name, value, &options->async);
  } else if (name == "caller-thread") {
    return ParseBool(name, value, &options->caller_thread);
  } else if (name == "inline-handler") {
    return ParseBool(name, value, &options->inline_handler);
  } else if (name == "topics") {
    return ParseInt(name, value, 1, &options->topics);
  } else if (name == "rate") {
    return ParseInt(name, value, 1, &options->rate);
  } else if (name == "output-buffer-timeout") {
    return ParseInt(name, value, -1, &options->output_buffer_timeout);
  } else if (name == "tls") {
    return ParseBool(name, value, &options->tls);
  } else if (name == "tls-ca-file") {
    options->tls_ca_file = std::string(value);
  } else if (name == "snappy") {
    return ParseBool(name, value, &options->snappy);
  } else if (name == "deflate") {
    return ParseBool(name, value, &options->deflate);
  } else {
    return absl::InvalidArgumentError(absl::StrFormat("flag provided but not defined: -%s", name));
  }
  return absl::OkStatus();
}

// Flags that take no value: "--async" alone means true, as with Go's bool flags.
bool IsBoolFlag(std::string_view name) {
  return name == "async" || name == "caller-thread" || name == "inline-handler" ||
         name == "tls" || name == "snappy" || name == "deflate";
}

}  // namespace

const char* BenchModeName(BenchMode mode) {
  switch (mode) {
    case BenchMode::kWriter:
      return "writer";
    case BenchMode::kReader:
      return "reader";
    case BenchMode::kClientWriter:
      return "client-writer";
    case BenchMode::kClientReader:
      return "client-reader";
    case BenchMode::kIdle:
      return "idle";
    case BenchMode::kLatency:
      return "latency";
  }
  return "?";
}

bool IsWriterMode(BenchMode mode) {
  return mode == BenchMode::kWriter || mode == BenchMode::kClientWriter;
}

std::string BenchUsage() {
  return R"(usage: nsq_bench writer|reader|client-writer|client-reader|idle|latency [flags]

  writer: N connections, each publishing MPUB batches (PUB when --batch-size=1) in a loop.
  reader: N connections, each SUB + RDY, FIN every message.
  client-writer: N threads, each with its own nsq::client::Producer, publishing as the writer
                 does with MultiPublish (Publish when --batch-size=1), each call waiting for
                 its OK; with --async, PublishAsync/MultiPublishAsync with up to --pipeline
                 publishes outstanding per producer.
  client-reader: N nsq::client::Consumers (max_in_flight --rdy each, like the reader's
                 connections), each handler on one thread counting each message (auto FIN).
  idle: N connections (one thread) that IDENTIFY and then only answer heartbeats, for
        --runfor; prints "IDLE ready=N" once all are set up.
  latency: one connection publishes --rate messages/s on a fixed schedule (PUB; MPUB with
           --batch-size > 1, sent when its last message is due), each stamped with its
           scheduled time; another receives them (--topic/--channel, RDY --rdy) and reports
           p50/p99/p99.9/max of publish -> deliver.

flags (upstream bench_writer/bench_reader names):
  --nsqd-tcp-address=ADDR  <addr>:<port> to connect to nsqd (default 127.0.0.1:4150)
  --topic=NAME             topic to publish to / receive from (default sub_bench)
  --channel=NAME           reader: channel to receive messages on (default ch)
  --runfor=DURATION        duration of time to run, Go syntax (default 10s)
  --size=BYTES             size of messages (default 200)
  --batch-size=N           writer: messages per MPUB; 1 uses PUB (default 200)
  --deadline=TIME          start at "YYYY-MM-DD hh:mm:ss" local time (default: now)
  --rdy=N                  reader: RDY count to use (default 2500)
ours:
  --connections=N          connections, one thread each (default: number of CPUs);
                           client-writer: producers; client-reader: consumers
  --count=N                stop after N messages in total (default 0 = unlimited)
  --pipeline=N             writer: commands outstanding per connection; client-writer
                           --async: publishes outstanding per producer (default 1)
  --async                  client-writer: use the producer's async API (default false)
  --caller-thread=BOOL     client-writer: blocking publishes on the caller's thread
                           (Config::sync_publish_on_caller_thread; default true, the
                           library's; false: through the producer's I/O thread)
  --inline-handler         client-reader: the handler on the consumer's I/O thread
                           (SetHandler concurrency 0; default false)
  --topics=N               writer, reader, client-writer: connection i uses topic
                           "<topic>_<i mod N>" (default 1: --topic itself)
  --rate=N                 latency: messages per second (default 50000)
  --output-buffer-timeout=MS
                           latency: the receiver's IDENTIFY output_buffer_timeout (-1: nsqd
                           flushes every loop turn; default 0: not sent, nsqd's 250 ms)
  --tls                    client-*: upgrade each connection to TLS (IDENTIFY tls_v1)
  --tls-ca-file=PATH       client-* --tls: verify nsqd's certificate against this CA
                           (default: no verification)
  --snappy                 client-*: snappy-compress each connection (IDENTIFY snappy)
  --deflate                client-*: deflate-compress each connection (IDENTIFY deflate)
)";
}

absl::StatusOr<BenchOptions> ParseBenchFlags(int argc, const char* const* argv) {
  BenchOptions options;
  options.connections = std::max(1u, std::thread::hardware_concurrency());
  if (argc < 2) {
    return absl::InvalidArgumentError(
        "missing mode (writer, reader, client-writer, client-reader, idle or latency)");
  }

  std::string_view mode = argv[1];
  if (mode == "writer") {
    options.mode = BenchMode::kWriter;
  } else if (mode == "reader") {
    options.mode = BenchMode::kReader;
  } else if (mode == "client-writer") {
    options.mode = BenchMode::kClientWriter;
  } else if (mode == "client-reader") {
    options.mode = BenchMode::kClientReader;
  } else if (mode == "idle") {
    options.mode = BenchMode::kIdle;
  } else if (mode == "latency") {
    options.mode = BenchMode::kLatency;
    options.batch_size = 1;  // PUB unless asked otherwise
  } else if (mode == "-h" || mode == "--help" || mode == "-help" || mode == "help") {
    options.show_help = true;
    return options;
  } else {
    return absl::InvalidArgumentError(absl::StrFormat("unknown mode \"%s\"", mode));
  }

  bool caller_thread_given = false;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    // Go's flag package accepts both -name and --name.
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrFormat("unexpected argument \"%s\"", arg));
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    if (arg == "h" || arg == "help") {
      options.show_help = true;
      continue;
    }
    std::string_view name = arg;
    std::string_view value;
    size_t equals = arg.find('=');
    if (equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else if (IsBoolFlag(name)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrFormat("flag needs an argument: -%s", name));
    }
    if (absl::Status status = SetFlag(name, value, &options); !status.ok()) return status;
    caller_thread_given |= name == "caller-thread";
  }
  if (options.async && options.mode != BenchMode::kClientWriter) {
    return absl::InvalidArgumentError("--async applies to client-writer only");
  }
  if (caller_thread_given && options.mode != BenchMode::kClientWriter) {
    return absl::InvalidArgumentError("--caller-thread applies to client-writer only");
  }
  if (options.inline_handler && options.mode != BenchMode::kClientReader) {
    return absl::InvalidArgumentError("--inline-handler applies to client-reader only");
  }
  const bool client_mode =
      options.mode == BenchMode::kClientWriter || options.mode == BenchMode::kClientReader;
  if ((options.tls || options.snappy || options.deflate) && !client_mode) {
    return absl::InvalidArgumentError(
        "--tls, --snappy and --deflate apply to client-writer and client-reader only");
  }
  if (!options.tls_ca_file.empty() && !options.tls) {
    return absl::InvalidArgumentError("--tls-ca-file needs --tls");
  }
  if (options.topics > 1 && options.mode != BenchMode::kWriter &&
      options.mode != BenchMode::kReader && options.mode != BenchMode::kClientWriter) {
    return absl::InvalidArgumentError("--topics applies to writer, reader and client-writer only");
  }
  if (options.snappy && options.deflate) {
    return absl::InvalidArgumentError("--snappy and --deflate exclude each other");
  }
  return options;
}

absl::StatusOr<std::chrono::system_clock::time_point> ParseDeadline(std::string_view text) {
  std::string copy(text);
  std::tm parts{};
  const char* end = strptime(copy.c_str(), "%Y-%m-%d %H:%M:%S", &parts);
  if (end == nullptr || *end != '\0') {
    return absl::InvalidArgumentError("want \"YYYY-MM-DD hh:mm:ss\"");
  }
  parts.tm_isdst = -1;  // let mktime decide whether DST applies at that instant
  errno = 0;
  std::time_t seconds = std::mktime(&parts);
  if (seconds == static_cast<std::time_t>(-1) && errno != 0) {
    return absl::InvalidArgumentError("time out of range");
  }
  return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace nsq::bench
