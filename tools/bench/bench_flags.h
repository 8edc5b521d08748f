// Command line of nsq_bench: NSQ's bench_writer/bench_reader flag names and defaults (Go flag
// syntax: -name or --name, =value or a separate value), plus flags of our own.
//
//   absl::StatusOr<BenchOptions> options = ParseBenchFlags(argc, argv);
//   // argv[1] is the mode: "writer", "reader", "client-writer", "client-reader", "idle" or
  // "latency"; flags
//   // follow as --name=value or --name value (--async alone means true).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsq::bench {

// writer/reader speak the wire protocol over blocking sockets; the client-* modes do the same
// work through our C++ client library (nsq::client::Producer / Consumer).
// idle holds connections that do nothing but answer heartbeats; latency publishes at a fixed
// rate and measures publish -> deliver.
enum class BenchMode { kWriter, kReader, kClientWriter, kClientReader, kIdle, kLatency };

// "writer", "reader", "client-writer", "client-reader", "idle", "latency".
const char* BenchModeName(BenchMode mode);
// Whether the mode publishes (writer, client-writer) rather than consumes.
bool IsWriterMode(BenchMode mode);

struct BenchOptions {
  BenchMode mode = BenchMode::kWriter;
  // <host>:<port> of nsqd's TCP listener.
  std::string nsqd_tcp_address = "127.0.0.1:4150";
  std::string topic = "sub_bench";
  // writer, reader, client-writer: spread the connections over this many topics,
  // "<topic>_0" .. "<topic>_<N-1>" (1: --topic itself).
  int64_t topics = 1;
  // Reader only.
  std::string channel = "ch";
  // How long to run once started (Go duration syntax: 10s, 500ms, 1m30s).
  std::chrono::nanoseconds runfor = std::chrono::seconds(10);
  // Message size in bytes; the reader only uses it to compute MB/s, as upstream does.
  int64_t size = 200;
  // Writer: messages per MPUB; 1 means PUB.
  int64_t batch_size = 200;
  // Start at this wall-clock instant ("YYYY-MM-DD hh:mm:ss", local time), if set.
  std::optional<std::chrono::system_clock::time_point> deadline;
  // Reader: RDY count per connection; client-reader: the consumer's max_in_flight.
  int64_t rdy = 2500;
  // Number of connections (one thread each); default: number of CPUs. client-writer: one
  // producer per thread; client-reader: handler threads of its one consumer.
  int64_t connections = 1;
  // Stop after this many messages in total (0 = only --runfor limits the run).
  int64_t count = 0;
  // Writer: MPUB/PUB commands kept outstanding per connection (1 = upstream behaviour);
  // client-writer --async: publishes awaiting their answer per producer.
  int64_t pipeline = 1;
  // client-writer: use the producer's callback API instead of the blocking calls.
  bool async = false;
  // client-writer: Config::sync_publish_on_caller_thread (blocking calls on the caller-thread
  // lane; the library's default). False: through the producer's I/O thread.
  bool caller_thread = true;
  // client-reader: the handler on the consumer's I/O thread (SetHandler concurrency 0).
  bool inline_handler = false;
  // client-* modes: what the connection negotiates in IDENTIFY. --tls trusts --tls-ca-file
  // when given, else skips verification (a benchmark measures the cipher, not the PKI).
  bool tls = false;
  std::string tls_ca_file;
  bool snappy = false;
  bool deflate = false;
  // latency: messages per second on the publish schedule.
  int64_t rate = 50000;
  // latency: the receiver's IDENTIFY output_buffer_timeout in ms (-1: flush at once; 0: not
  // sent, nsqd's default of 250 ms applies).
  int64_t output_buffer_timeout = 0;
  bool show_help = false;
};

// Parses argv (argv[0] is the program, argv[1] the mode). Errors are fit to print as is.
absl::StatusOr<BenchOptions> ParseBenchFlags(int argc, const char* const* argv);

// Usage text for --help and parse errors.
std::string BenchUsage();

// "YYYY-MM-DD hh:mm:ss" in the local time zone.
absl::StatusOr<std::chrono::system_clock::time_point> ParseDeadline(std::string_view text);

}  // namespace nsq::bench
