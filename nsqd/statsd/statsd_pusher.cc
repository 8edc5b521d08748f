#include "nsqd/statsd/statsd_pusher.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "common/util/process_stats.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/statsd/statsd_report.h"

namespace nsq::nsqd {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct StatsdPusher::Impl {
  Impl(asio::io_context* io_context, BrokerSet* b, StatsdPusherOptions opts)
      : brokers(b),
        options(std::move(opts)),
        report({.prefix = options.prefix, .exclude_ephemeral = options.exclude_ephemeral}),
        push_timer(*io_context),
        spread_timer(*io_context),
        resolver(*io_context),
        socket(*io_context) {}

  void ScheduleNextPush() {
    push_timer.expires_at(next_push);
    push_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped) return;
      next_push += absl::ToChronoNanoseconds(options.interval);
      Push();
      ScheduleNextPush();
    });
  }

  ~Impl() { *alive = false; }

  // One push: the lines are built from every shard's stats of this moment, sent once resolved.
  void Push() {
    ++metrics.pushes;
    GatherStats(*brokers, std::string(), std::string(), false,
                [this, alive = alive](BrokerStats stats) {
                  if (*alive && !stopped) PushStats(stats);
                });
  }

  void PushStats(const BrokerStats& stats) {
    StatsdMemStats mem;
    if (options.mem_stats) {
      const util::HeapStats heap = util::ReadHeapStats();
      mem.heap_in_use_bytes = heap.in_use_bytes;
      mem.heap_idle_bytes = heap.idle_bytes;
      mem.resident_bytes = util::ReadProcessStats().resident_bytes;
    }
    const std::vector<std::string> lines =
        report.Lines(stats, options.mem_stats ? &mem : nullptr);
    // What the last push could not send yet goes now, ahead of this one.
    SendAllPending();
    for (std::string& packet : PackStatsdPackets(lines, options.packet_size)) {
      pending.push_back(std::move(packet));
    }
    absl::StatusOr<std::pair<std::string, int>> host_port = net::SplitHostPort(options.address);
    if (!host_port.ok()) {  // checked at start-up; kept for safety
      FailPush(std::string(host_port.status().message()));
      return;
    }
    NSQ_LOG_INFO("STATSD: pushing stats to %s", options.address);
    // As Go's Dial, an empty host is this machine.
    const std::string host = host_port->first.empty() ? "localhost" : host_port->first;
    resolver.async_resolve(
        host, std::to_string(host_port->second),
        [this](const boost::system::error_code& ec, const udp::resolver::results_type& results) {
          if (stopped || ec == asio::error::operation_aborted) return;
          if (ec || results.empty()) {
            FailPush(ec ? ec.message() : "no address");
            return;
          }
          endpoint = results.begin()->endpoint();
          if (!OpenSocket()) return;
          StartSending();
        });
  }

  void FailPush(std::string_view why) {
    ++metrics.send_errors;
    pending.clear();
    NSQ_LOG_ERROR("failed to create UDP socket to statsd(%s) - %s", options.address,
                  std::string(why));
  }

  // Opens the socket for the endpoint's family (again when the address changed family).
  bool OpenSocket() {
    if (socket.is_open() && socket_protocol == endpoint.protocol()) return true;
    boost::system::error_code ec;
    socket.close(ec);
    socket_protocol = endpoint.protocol();
    socket.open(endpoint.protocol(), ec);
    if (!ec) socket.non_blocking(true, ec);
    if (ec) {
      const std::string why = ec.message();
      socket.close(ec);
      FailPush(why);
      return false;
    }
    return true;
  }

  // Spreads the packets over the interval minus one second, as nsqd's spread writer does.
  void StartSending() {
    if (pending.empty()) return;
    const absl::Duration spread = options.interval - absl::Seconds(1);
    if (spread <= absl::ZeroDuration() || pending.size() == 1) {
      SendAllPending();
      return;
    }
    gap = absl::ToChronoNanoseconds(spread / static_cast<double>(pending.size()));
    SendNextSpread();
  }

  void SendNextSpread() {
    if (pending.empty()) return;
    SendOne();
    if (pending.empty()) return;
    spread_timer.expires_after(gap);
    spread_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped) return;
      SendNextSpread();
    });
  }

  void SendAllPending() {
    spread_timer.cancel();
    while (!pending.empty()) SendOne();
  }

  void SendOne() {
    const std::string packet = std::move(pending.front());
    pending.pop_front();
    if (!socket.is_open()) {
      ++metrics.send_errors;
      return;
    }
    boost::system::error_code ec;
    socket.send_to(asio::buffer(packet), endpoint, 0, ec);
    if (!ec) {
      ++metrics.packets_sent;
    } else if (ec == asio::error::would_block || ec == asio::error::try_again ||
               ec == asio::error::no_buffer_space) {
      ++metrics.packets_dropped;
    } else {
      ++metrics.send_errors;
    }
  }

  BrokerSet* const brokers;
  const StatsdPusherOptions options;
  StatsdReport report;
  asio::steady_timer push_timer;
  asio::steady_timer spread_timer;
  udp::resolver resolver;
  udp::socket socket;
  udp::endpoint endpoint;
  udp socket_protocol = udp::v4();
  std::chrono::steady_clock::time_point next_push;
  std::chrono::nanoseconds gap{0};
  std::deque<std::string> pending;  // packets of the current push not sent yet
  StatsdMetrics metrics;
  bool stopped = false;
  // Shared with stats gatherings still under way: false once this is gone.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

StatsdPusher::StatsdPusher(asio::io_context* io, BrokerSet* brokers, StatsdPusherOptions options)
    : impl_(std::make_unique<Impl>(io, brokers, std::move(options))) {}

StatsdPusher::~StatsdPusher() = default;

void StatsdPusher::Start() {
  impl_->next_push = std::chrono::steady_clock::now() +
                     absl::ToChronoNanoseconds(impl_->options.interval);
  impl_->ScheduleNextPush();
}

void StatsdPusher::Stop() {
  impl_->stopped = true;
  impl_->push_timer.cancel();
  impl_->spread_timer.cancel();
  impl_->resolver.cancel();
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
  impl_->pending.clear();
}

StatsdMetrics StatsdPusher::metrics() const { return impl_->metrics; }

}  // namespace nsq::nsqd
