#include "tools/bench/reader.h"

#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "common/protocol/message.h"
#include "tools/bench/conn.h"

namespace nsq::bench {
namespace {

constexpr std::string_view kReaderIdentify =
    R"({"client_id":"bench_reader","hostname":"bench","user_agent":"nsq_bench",)"
    R"("feature_negotiation":false})";

absl::Status ReaderConnection(BenchRun& run) {
  const BenchOptions& options = run.options();
  absl::StatusOr<std::unique_ptr<BenchConn>> conn =
      BenchConn::Connect(options.nsqd_tcp_address, &run.stop_flag());
  if (!conn.ok()) return conn.status();
  if (absl::Status status = (*conn)->Handshake(kReaderIdentify); !status.ok()) return status;

  std::string out;
  protocol::EncodeSub(run.WorkerTopic(), options.channel, &out);
  if (absl::Status status = (*conn)->Write(out); !status.ok()) return status;
  protocol::Frame frame;
  if (absl::Status status = (*conn)->ReadResponse(&frame); !status.ok()) return status;
  if (frame.data != protocol::kOk) {
    return absl::FailedPreconditionError(
        absl::StrFormat("SUB: expected OK, got \"%s\"", frame.data));
  }

  // The run's end (runfor or --count) sets the stop flag, which ends the blocked read below.
  run.WaitForStart();
  out.clear();
  protocol::EncodeRdy(options.rdy, &out);
  if (absl::Status status = (*conn)->Write(out); !status.ok()) return status;

  while (true) {
    if (absl::Status status = (*conn)->ReadFrame(&frame); !status.ok()) return status;
    // Answer everything the last read() brought in with a single write.
    out.clear();
    int64_t received = 0;
    do {
      switch (frame.type) {
        case protocol::FrameType::kMessage: {
          absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame.data);
          if (!message.ok()) return message.status();
          protocol::EncodeFin(message->id.view(), &out);
          ++received;
          break;
        }
        case protocol::FrameType::kResponse:
          if (frame.data == protocol::kHeartbeat) protocol::EncodeNop(&out);
          break;
        case protocol::FrameType::kError:
          return NsqdError(frame.data);
      }
    } while ((*conn)->NextBufferedFrame(&frame));
    if (!out.empty()) {
      if (absl::Status status = (*conn)->Write(out); !status.ok()) return status;
    }
    if (received > 0) run.AddMessages(received);
  }
}

}  // namespace

absl::StatusOr<BenchResult> RunReader(const BenchOptions& options) {
  return RunConnections(options, StopRule::kAtRunforOrCount, ReaderConnection);
}

}  // namespace nsq::bench
