#include "lookupd/lookupd.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <utility>

#include "common/http/http_server.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "common/util/clock.h"
#include "lookupd/http_api.h"
#include "lookupd/registration_db.h"
#include "lookupd/tcp_server.h"

namespace nsq::lookupd {

namespace asio = boost::asio;

const char* LookupdVersion() { return NSQ_COMPAT_VERSION; }

struct Lookupd::Impl {
  explicit Impl(const LookupdOptions& opts)
      : options(opts),
        db(&clock),
        tcp(&io, &db, &self),
        // Big answers are built a slice per turn of the loop. Posted twice: a handler posted
        // once lands ahead of the I/O completions the reactor queues after it runs, so a
        // /ping would wait for two slices; the second post puts the slice behind them.
        api(&db, &options, LookupdVersion(),
            [this](std::function<void()> work) {
              asio::post(io, [this, work = std::move(work)]() mutable {
                asio::post(io, std::move(work));
              });
            }),
        http(&io, &api, LookupdHttpApi::kMaxBodySize),
        signals(io, SIGINT, SIGTERM) {}

  void Stop() {
    if (stopping) return;
    stopping = true;
    NSQ_LOG_INFO("LOOKUP: closing");
    tcp.Stop();
    http.Stop();
    api.Stop();  // a /nodes being built must not keep the loop (and so the process) running
    signals.cancel();
  }

  LookupdOptions options;
  asio::io_context io{1};
  util::SystemClock clock;
  RegistrationDb db;
  protocol::LookupdInfo self;  // what IDENTIFY answers; complete once both listeners are bound
  LookupdTcpServer tcp;
  LookupdHttpApi api;
  http::HttpServer http;
  asio::signal_set signals;
  int tcp_port = 0;
  int http_port = 0;
  bool stopping = false;
};

absl::StatusOr<std::unique_ptr<Lookupd>> Lookupd::Create(const LookupdOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  Impl* p = impl.get();
  absl::StatusOr<int> tcp_port = p->tcp.Listen(options.tcp_address);
  if (!tcp_port.ok()) return tcp_port.status();
  absl::StatusOr<int> http_port = p->http.Listen(options.http_address);
  if (!http_port.ok()) return http_port.status();
  p->tcp_port = *tcp_port;
  p->http_port = *http_port;

  // Nothing runs before Run(), so no IDENTIFY is answered before this is complete.
  p->self.broadcast_address = options.broadcast_address;
  p->self.hostname = net::Hostname();
  p->self.tcp_port = p->tcp_port;
  p->self.http_port = p->http_port;
  p->self.version = LookupdVersion();

  p->signals.async_wait([p](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    NSQ_LOG_INFO("LOOKUP: received signal %d, exiting", signal);
    p->Stop();
  });
  return std::unique_ptr<Lookupd>(new Lookupd(std::move(impl)));
}

Lookupd::Lookupd(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Lookupd::~Lookupd() = default;

void Lookupd::Run() {
  impl_->io.run();
  NSQ_LOG_INFO("LOOKUP: bye");
}

void Lookupd::Shutdown() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->Stop(); });
}

int Lookupd::tcp_port() const { return impl_->tcp_port; }
int Lookupd::http_port() const { return impl_->http_port; }

}  // namespace nsq::lookupd
