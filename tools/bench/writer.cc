#include "tools/bench/writer.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "tools/bench/conn.h"

namespace nsq::bench {
namespace {

constexpr std::string_view kWriterIdentify =
    R"({"client_id":"bench_writer","hostname":"bench","user_agent":"nsq_bench",)"
    R"("feature_negotiation":false})";

// The bytes of one publish command carrying `count` copies of `body`.
std::string EncodePublish(std::string_view topic, std::string_view body, int64_t count) {
  std::string out;
  if (count == 1) {
    protocol::EncodePub(topic, body, &out);
  } else {
    std::vector<std::string_view> bodies(static_cast<size_t>(count), body);
    protocol::EncodeMpub(topic, bodies, &out);
  }
  return out;
}

absl::Status WriterConnection(BenchRun& run) {
  const BenchOptions& options = run.options();
  // Only a failure elsewhere interrupts a writer: at the end of the run it still waits for the
  // answers to what it sent, so every counted message was acknowledged.
  absl::StatusOr<std::unique_ptr<BenchConn>> conn =
      BenchConn::Connect(options.nsqd_tcp_address, &run.abort_flag());
  if (!conn.ok()) return conn.status();
  if (absl::Status status = (*conn)->Handshake(kWriterIdentify); !status.ok()) return status;

  // Encoded once: the loop then costs one write per batch, as a real batching producer's would.
  const std::string body(static_cast<size_t>(options.size), 'x');
  const std::string topic = run.WorkerTopic();
  const std::string full_batch = EncodePublish(topic, body, options.batch_size);
  const size_t pipeline = static_cast<size_t>(options.pipeline);

  const Clock::time_point end = run.WaitForStart();
  std::deque<int64_t> outstanding;  // message count of each command awaiting its answer
  int64_t acknowledged = 0;
  bool sending = true;
  protocol::Frame frame;
  while (true) {
    while (sending && outstanding.size() < pipeline) {
      int64_t count = run.ClaimMessages(options.batch_size);
      if (count == 0 || run.abort_flag().load(std::memory_order_relaxed)) {
        sending = false;
        break;
      }
      absl::Status status = count == options.batch_size
                                ? (*conn)->Write(full_batch)
                                : (*conn)->Write(EncodePublish(topic, body, count));
      if (!status.ok()) return status;
      outstanding.push_back(count);
    }
    if (outstanding.empty()) break;

    if (absl::Status status = (*conn)->ReadResponse(&frame); !status.ok()) return status;
    if (frame.data != protocol::kOk) {
      return absl::FailedPreconditionError(
          absl::StrFormat("publish: expected OK, got \"%s\"", frame.data));
    }
    acknowledged += outstanding.front();
    outstanding.pop_front();
    // Upstream checks the clock after each answer, so a run lasts at least --runfor.
    if (Clock::now() > end) sending = false;
  }
  run.AddMessages(acknowledged);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BenchResult> RunWriter(const BenchOptions& options) {
  return RunConnections(options, StopRule::kWorkersFinish, WriterConnection);
}

}  // namespace nsq::bench
