#include "tools/bench/client_reader.h"

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "nsq/config.h"
#include "nsq/consumer.h"
#include "nsq/message.h"
#include "tools/bench/client_config.h"

namespace nsq::bench {
namespace {

// The one harness worker: it owns the consumer, whose own threads do the receiving.
absl::Status ConsumerWorker(BenchRun& run, int handler_threads) {
  const BenchOptions& options = run.options();
  client::Config config = ClientConfigFor(options);
  config.max_in_flight = static_cast<int>(options.rdy);
  client::Consumer consumer(options.topic, options.channel, config);
  consumer.SetHandler(
      [&run](client::Message& message) {
        // Messages the consumer still holds when the run ends would inflate a count measured up
        // to that instant; they go back to nsqd (without backoff) for the next run instead.
        if (run.stop_flag().load(std::memory_order_relaxed)) {
          message.DisableAutoResponse();
          message.RequeueWithoutBackoff(std::chrono::milliseconds(0));
        } else {
          run.AddMessages(1);
        }
        return absl::OkStatus();
      },
      handler_threads);

  // As the raw reader: subscribed (paused, RDY 0) before the clock starts, which RDY starts.
  if (absl::Status status = consumer.ChangeMaxInFlight(0); !status.ok()) return status;
  if (absl::Status status = consumer.ConnectToNsqd(options.nsqd_tcp_address); !status.ok()) {
    return status;
  }
  const auto subscribe_deadline = Clock::now() + std::chrono::seconds(10);
  while (consumer.Stats().connections == 0 && Clock::now() < subscribe_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  run.WaitForStart();
  if (absl::Status status = consumer.ChangeMaxInFlight(static_cast<int>(options.rdy));
      !status.ok()) {
    return status;
  }
  run.WaitForStop();
  const client::ConsumerStats stats = consumer.Stats();
  consumer.Stop();
  if (run.abort_flag().load()) return absl::CancelledError();
  // The consumer retries a failed connection quietly (besides its log line); say why a run
  // counted nothing.
  if (stats.messages_received == 0 && stats.connections == 0) {
    return absl::UnavailableError(
        absl::StrFormat("the consumer never subscribed at %s", options.nsqd_tcp_address));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BenchResult> RunClientReader(const BenchOptions& options) {
  // As the raw reader's connections: --connections consumers, each one connection with RDY
  // (max_in_flight) --rdy and one handler thread (none with --inline-handler).
  const int handler_threads = options.inline_handler ? 0 : 1;
  return RunConnections(options, StopRule::kAtRunforOrCount, [handler_threads](BenchRun& run) {
    return ConsumerWorker(run, handler_threads);
  });
}

}  // namespace nsq::bench
