#include "tools/bench/latency.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "common/protocol/message.h"
#include "tools/bench/bench_run.h"
#include "tools/bench/conn.h"

namespace nsq::bench {
namespace {

constexpr std::string_view kLatencyIdentify =
    R"({"client_id":"bench_latency","hostname":"bench","user_agent":"nsq_bench",)"
    R"("feature_negotiation":false})";

// The receiver's IDENTIFY, with --output-buffer-timeout when given (feature_negotiation stays
// false, so nsqd answers OK as Handshake expects).
std::string ReceiverIdentify(const BenchOptions& options) {
  if (options.output_buffer_timeout == 0) return std::string(kLatencyIdentify);
  return absl::StrFormat(
      R"({"client_id":"bench_latency","hostname":"bench","user_agent":"nsq_bench",)"
      R"("feature_negotiation":false,"output_buffer_timeout":%d})",
      options.output_buffer_timeout);
}
// How long the receiver waits for stragglers once the publisher is done.
constexpr auto kDrainGrace = std::chrono::seconds(5);
// At most this many messages go out in one write when the publisher has fallen behind.
constexpr int64_t kMaxMessagesPerWrite = 1000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// What the three threads share.
struct LatencyRun {
  std::atomic<bool> stop{false};        // a thread failed: everyone ends
  std::atomic<int64_t> sent{0};         // messages handed to the socket
  std::atomic<int64_t> received{0};
  std::mutex mu;
  absl::Status first_error;  // guarded by mu

  void Fail(absl::Status status) {
    std::lock_guard lock(mu);
    if (first_error.ok() && !status.ok() && !absl::IsCancelled(status)) first_error = status;
    stop.store(true);
  }
};

// Sends the schedule: message i is due at start + i / rate, and carries that instant.
absl::Status Publish(const BenchOptions& options, BenchConn& conn, LatencyRun& run,
                     Clock::time_point start) {
  const double ns_per_message = 1e9 / static_cast<double>(options.rate);
  const int64_t total = static_cast<int64_t>(
      std::chrono::duration<double>(options.runfor).count() * static_cast<double>(options.rate));
  const int64_t start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               start.time_since_epoch()).count();
  std::string body(static_cast<size_t>(std::max<int64_t>(options.size, 8)), 'x');
  std::vector<std::string> bodies;
  std::vector<std::string_view> views;
  std::string out;
  int64_t sent = 0;
  while (sent < total && !run.stop.load(std::memory_order_relaxed)) {
    const auto due_at = [&](int64_t i) {
      return start_ns + static_cast<int64_t>(static_cast<double>(i) * ns_per_message);
    };
    // An MPUB goes once its last message is due (its first ones wait for it, as in a
    // producer that batches), so no message is published before its instant.
    const auto batch_due_at = [&](int64_t first) {
      return due_at(first + std::min<int64_t>(options.batch_size, total - first) - 1);
    };
    const int64_t now = NowNs();
    if (batch_due_at(sent) > now) {
      std::this_thread::sleep_until(start +
                                    std::chrono::nanoseconds(batch_due_at(sent) - start_ns));
      continue;
    }
    out.clear();
    int64_t in_this_write = 0;
    while (sent < total && batch_due_at(sent) <= now && in_this_write < kMaxMessagesPerWrite) {
      const int64_t count = std::min<int64_t>(options.batch_size, total - sent);
      bodies.assign(static_cast<size_t>(count), body);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t stamp = due_at(sent + i);
        std::memcpy(bodies[static_cast<size_t>(i)].data(), &stamp, sizeof(stamp));
      }
      if (count == 1) {
        protocol::EncodePub(options.topic, bodies[0], &out);
      } else {
        views.assign(bodies.begin(), bodies.end());
        protocol::EncodeMpub(options.topic, views, &out);
      }
      sent += count;
      in_this_write += count;
    }
    if (absl::Status status = conn.Write(out); !status.ok()) return status;
    run.sent.store(sent);
  }
  return absl::OkStatus();
}

// Reads the publisher's answers: every one must be OK.
absl::Status ReadAcks(BenchConn& conn, LatencyRun& run) {
  protocol::Frame frame;
  while (!run.stop.load(std::memory_order_relaxed)) {
    absl::Status status = conn.ReadResponse(&frame);
    if (absl::IsCancelled(status)) return absl::OkStatus();
    if (!status.ok()) return status;
    if (frame.data != protocol::kOk) {
      return absl::FailedPreconditionError(
          absl::StrFormat("publish: expected OK, got \"%s\"", frame.data));
    }
  }
  return absl::OkStatus();
}

// Receives until the run stops, FINs each message, and records its latency in ns.
absl::Status Receive(BenchConn& conn, LatencyRun& run, std::vector<int64_t>* latencies) {
  protocol::Frame frame;
  std::string out;
  while (true) {
    absl::Status status = conn.ReadFrame(&frame);
    if (absl::IsCancelled(status)) return absl::OkStatus();
    if (!status.ok()) return status;
    out.clear();
    do {
      if (frame.type == protocol::FrameType::kError) return NsqdError(frame.data);
      if (frame.type == protocol::FrameType::kResponse) {
        if (frame.data == protocol::kHeartbeat) protocol::EncodeNop(&out);
        continue;
      }
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame.data);
      if (!message.ok()) return message.status();
      const int64_t now = NowNs();
      int64_t stamp = 0;
      const std::string_view body = message->body.view();
      if (body.size() < sizeof(stamp)) return absl::DataLossError("message without a timestamp");
      std::memcpy(&stamp, body.data(), sizeof(stamp));
      latencies->push_back(now - stamp);
      protocol::EncodeFin(message->id.view(), &out);
    } while (conn.NextBufferedFrame(&frame));
    run.received.store(static_cast<int64_t>(latencies->size()));
    if (!out.empty()) {
      if (absl::Status written = conn.Write(out); !written.ok()) return written;
    }
  }
}

std::string Micros(int64_t ns) {
  if (ns >= 10'000'000) return absl::StrFormat("%.1fms", static_cast<double>(ns) / 1e6);
  return absl::StrFormat("%dus", ns / 1000);
}

}  // namespace

absl::Status RunLatency(const BenchOptions& options) {
  LatencyRun run;
  absl::StatusOr<std::unique_ptr<BenchConn>> receiver =
      BenchConn::Connect(options.nsqd_tcp_address, &run.stop);
  if (!receiver.ok()) return receiver.status();
  if (absl::Status status = (*receiver)->Handshake(ReceiverIdentify(options)); !status.ok()) {
    return status;
  }
  std::string out;
  protocol::EncodeSub(options.topic, options.channel, &out);
  protocol::EncodeRdy(options.rdy, &out);
  if (absl::Status status = (*receiver)->Write(out); !status.ok()) return status;
  protocol::Frame frame;
  if (absl::Status status = (*receiver)->ReadResponse(&frame); !status.ok()) return status;

  absl::StatusOr<std::unique_ptr<BenchConn>> publisher =
      BenchConn::Connect(options.nsqd_tcp_address, &run.stop);
  if (!publisher.ok()) return publisher.status();
  if (absl::Status status = (*publisher)->Handshake(kLatencyIdentify); !status.ok()) return status;

  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(
      std::chrono::duration<double>(options.runfor).count() * static_cast<double>(options.rate)));
  const Clock::time_point start = Clock::now();
  std::thread receive_thread([&] {
    if (absl::Status status = Receive(**receiver, run, &latencies); !status.ok()) run.Fail(status);
  });
  std::thread ack_thread([&] {
    if (absl::Status status = ReadAcks(**publisher, run); !status.ok()) run.Fail(status);
  });
  if (absl::Status status = Publish(options, **publisher, run, start); !status.ok()) {
    run.Fail(status);
  }
  const Clock::time_point sending_ended = Clock::now();
  // The receiver and the ack reader block on their sockets; the stop flag ends them once the
  // last message arrived (or the grace ran out: the report then says what is missing).
  while (!run.stop.load() && run.received.load() < run.sent.load() &&
         Clock::now() < sending_ended + kDrainGrace) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.stop.store(true);
  receive_thread.join();
  ack_thread.join();
  {
    std::lock_guard lock(run.mu);
    if (!run.first_error.ok()) return run.first_error;
  }

  const int64_t sent = run.sent.load();
  const auto received = static_cast<int64_t>(latencies.size());
  if (received > sent) return absl::DataLossError("more messages arrived than were sent");
  std::sort(latencies.begin(), latencies.end());
  const auto percentile = [&](double p) -> int64_t {
    if (latencies.empty()) return 0;
    const auto rank = static_cast<size_t>(p * static_cast<double>(latencies.size() - 1) + 0.5);
    return latencies[std::min(rank, latencies.size() - 1)];
  };
  const double seconds = std::chrono::duration<double>(sending_ended - start).count();
  std::printf("[bench_latency] rate: %lld/s - msgs: %lld - p50: %s - p99: %s - p99.9: %s - max: %s\n",
              static_cast<long long>(options.rate), static_cast<long long>(received),
              Micros(percentile(0.5)).c_str(), Micros(percentile(0.99)).c_str(),
              Micros(percentile(0.999)).c_str(), Micros(percentile(1.0)).c_str());
  std::printf("RESULT mode=latency msgs=%lld sent=%lld seconds=%.6f msgs_per_sec=%.1f "
              "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
              static_cast<long long>(received), static_cast<long long>(sent), seconds,
              static_cast<double>(sent) / seconds, static_cast<double>(percentile(0.5)) / 1e3,
              static_cast<double>(percentile(0.99)) / 1e3,
              static_cast<double>(percentile(0.999)) / 1e3,
              static_cast<double>(percentile(1.0)) / 1e3);
  std::fflush(stdout);
  if (received < sent) {
    return absl::DataLossError(absl::StrFormat("%d of %d messages never arrived within %ds",
                                               sent - received, sent, kDrainGrace.count()));
  }
  return absl::OkStatus();
}

}  // namespace nsq::bench
