#include "tools/bench/idle.h"

#include <poll.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "tools/bench/bench_run.h"
#include "tools/bench/conn.h"

namespace nsq::bench {
namespace {

constexpr std::string_view kIdleIdentify =
    R"({"client_id":"bench_idle","hostname":"bench","user_agent":"nsq_bench",)"
    R"("feature_negotiation":false})";
constexpr int kPollMs = 100;

}  // namespace

absl::Status RunIdle(const BenchOptions& options) {
  const std::atomic<bool> never_stop{false};
  std::vector<std::unique_ptr<BenchConn>> conns;
  conns.reserve(static_cast<size_t>(options.connections));
  for (int64_t i = 0; i < options.connections; ++i) {
    absl::StatusOr<std::unique_ptr<BenchConn>> conn =
        BenchConn::Connect(options.nsqd_tcp_address, &never_stop);
    if (!conn.ok()) {
      return absl::Status(conn.status().code(),
                          absl::StrFormat("connection %d: %s", i + 1, conn.status().message()));
    }
    if (absl::Status status = (*conn)->Handshake(kIdleIdentify); !status.ok()) return status;
    conns.push_back(*std::move(conn));
  }
  std::printf("IDLE ready=%zu\n", conns.size());
  std::fflush(stdout);

  std::vector<pollfd> polled;
  for (const auto& conn : conns) polled.push_back(pollfd{conn->fd(), POLLIN, 0});
  const Clock::time_point end = Clock::now() + options.runfor;
  std::string nop;
  protocol::EncodeNop(&nop);
  while (Clock::now() < end) {
    if (poll(polled.data(), polled.size(), kPollMs) <= 0) continue;
    for (size_t i = 0; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      protocol::Frame frame;
      if (absl::Status status = conns[i]->ReadFrame(&frame); !status.ok()) return status;
      if (frame.type == protocol::FrameType::kError) return NsqdError(frame.data);
      if (frame.type == protocol::FrameType::kResponse && frame.data == protocol::kHeartbeat) {
        if (absl::Status status = conns[i]->Write(nop); !status.ok()) return status;
      }
    }
  }
  std::printf("IDLE done=%zu\n", conns.size());
  return absl::OkStatus();
}

}  // namespace nsq::bench
