#include "nsqd/nsqd.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <csignal>

#include "absl/strings/str_cat.h"
#include "common/http/http_server.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker_persistence.h"
#include "nsqd/lookup/lookupd_client.h"
#include "nsqd/http/http_api.h"
#include "nsqd/http/tls_required.h"
#include "nsqd/nsqd_flags.h"
#include "nsqd/shard/shard_set.h"
#include "nsqd/shard/sharded_brokers.h"
#include "nsqd/statsd/statsd_pusher.h"
#include "nsqd/statsd/statsd_report.h"
#include "nsqd/tcp/asio_timers.h"
#include "nsqd/tcp/tcp_server.h"

namespace nsq::nsqd {

namespace asio = boost::asio;

const char* NsqdVersion() { return NSQ_COMPAT_VERSION; }

namespace {

// The body of PUT /config/nsqlookupd_tcp_addresses: a JSON array of "host:port" strings.
std::optional<std::vector<std::string>> ParseAddressList(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_array()) return std::nullopt;
  std::vector<std::string> addresses;
  for (const auto& item : value.as_array()) {
    if (!item.is_string()) return std::nullopt;
    std::string address(item.as_string());
    if (!net::SplitHostPort(address).ok()) return std::nullopt;
    addresses.push_back(std::move(address));
  }
  return addresses;
}

}  // namespace

// The TLS context of --tls-cert/--tls-key (null without them: no TLS at all, as nsqd).
absl::StatusOr<std::shared_ptr<net::TlsServerContext>> MakeTlsContext(const NsqdOptions& options) {
  if (options.tls_cert.empty() || options.tls_key.empty()) return nullptr;
  net::TlsServerSettings settings;
  settings.cert_file = options.tls_cert;
  settings.key_file = options.tls_key;
  settings.root_ca_file = options.tls_root_ca_file;
  settings.min_version = options.tls_min_version;
  if (options.tls_client_auth_policy == "require") {
    settings.client_auth = net::TlsServerSettings::ClientAuth::kRequire;
  } else if (options.tls_client_auth_policy == "require-verify") {
    settings.client_auth = net::TlsServerSettings::ClientAuth::kRequireVerify;
  }
  return net::TlsServerContext::Create(settings);
}

// What each shard has of its own: its broker (the topics it owns), the timers of its loop and,
// with auth servers, an authenticator asking them from its loop.
struct ShardParts {
  ShardParts(const NsqdOptions* options, util::Clock* clock, asio::io_context* io,
             const std::shared_ptr<asio::ssl::context>& auth_tls)
      : timers(io, clock),
        broker(BrokerContext{options, clock, &timers,
                             [io](std::function<void()> fn) { asio::post(*io, std::move(fn)); }}),
        auth(auth_tls ? std::make_unique<HttpAuthenticator>(io, *options, auth_tls) : nullptr) {}

  AsioTimerFactory timers;
  Broker broker;
  std::unique_ptr<Authenticator> auth;  // null without --auth-http-address
};

struct Nsqd::Impl {
  // `auth_tls` is set when there are auth servers (--auth-http-address).
  Impl(const NsqdOptions& opts, std::shared_ptr<net::TlsServerContext> tls_context,
       std::shared_ptr<asio::ssl::context> auth_tls)
      : options(opts),
        tls(std::move(tls_context)),
        shards(&io, static_cast<int>(opts.worker_threads),
               absl::ToChronoMicroseconds(opts.busy_poll)),
        parts(MakeParts(auth_tls)),
        brokers(&shards, BrokerPointers()),
        tcp(&io, &brokers, NsqdVersion(), tls, Authenticators(), &shards),
        api(&brokers, &node),
        tls_gate(&api, &https_port),
        // --tls-required=true closes plain HTTP (tcp-https leaves it open).
        http(&io, options.tls_required == "true" ? static_cast<http::HttpHandler*>(&tls_gate) : &api,
             std::max(options.max_body_size, options.max_msg_size)),
        signals(io, SIGINT, SIGTERM) {
    if (tls) {
      https = std::make_unique<http::HttpServer>(
          &io, &api, std::max(options.max_body_size, options.max_msg_size), tls);
    }
  }

  std::vector<std::unique_ptr<ShardParts>> MakeParts(
      const std::shared_ptr<asio::ssl::context>& auth_tls) {
    std::vector<std::unique_ptr<ShardParts>> made;
    for (int shard = 0; shard < shards.size(); ++shard) {
      made.push_back(std::make_unique<ShardParts>(&options, &clock, shards.io(shard), auth_tls));
    }
    return made;
  }
  std::vector<Broker*> BrokerPointers() const {
    std::vector<Broker*> pointers;
    for (const auto& part : parts) pointers.push_back(&part->broker);
    return pointers;
  }
  std::vector<Authenticator*> Authenticators() const {
    std::vector<Authenticator*> pointers;
    for (const auto& part : parts) {
      if (part->auth) pointers.push_back(part->auth.get());
    }
    return pointers;
  }

  // Graceful stop: no new connections, every connection flushes and closes, then the loops
  // run out of work and Run() returns. A client that does not read gets 5 s.
  void Stop() {
    if (stopping) return;
    stopping = true;
    NSQ_LOG_INFO("NSQ: closing");
    tcp.Stop();
    http.Stop();
    if (https) https->Stop();
    if (lookupd) lookupd->Stop();
    if (statsd) statsd->Stop();
    signals.cancel();
    shutdown_deadline.expires_after(std::chrono::seconds(5));
    shutdown_deadline.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) brokers.OnEach([](Broker& broker) { broker.ForceCloseClients(); });
    });
    // Every shard's broker closes its topics and connections; the deadline is cancelled once
    // the last shard has no connection left.
    shards_open = brokers.size();
    brokers.OnEach([this](Broker& broker) {
      broker.Close([this] {
        brokers.Post(0, [this] {
          if (--shards_open == 0) shutdown_deadline.cancel();
        });
      });
    });
  }

  NsqdOptions options;
  std::shared_ptr<net::TlsServerContext> tls;  // null without --tls-cert/--tls-key
  asio::io_context io{1};
  ShardSet shards;  // shard 0 is `io`
  util::SystemClock clock;
  std::vector<std::unique_ptr<ShardParts>> parts;  // one per shard
  ShardedBrokers brokers;
  NodeInfo node;
  TcpServer tcp;
  HttpApi api;
  int https_port = 0;
  TlsRequiredHandler tls_gate;  // plain HTTP's handler when --tls-required=true
  http::HttpServer http;
  std::unique_ptr<http::HttpServer> https;  // --https-address, when there is TLS
  asio::signal_set signals;
  asio::steady_timer shutdown_deadline{io};
  size_t shards_open = 0;  // shards whose broker has connections left, while stopping
  std::unique_ptr<LookupdClient> lookupd;
  std::unique_ptr<StatsdPusher> statsd;  // null without --statsd-address
  int tcp_port = 0;
  int http_port = 0;
  // Opened first: the store's lock also keeps a second nsqd off this data path.
  std::unique_ptr<BrokerPersistence> persistence;
  bool stopping = false;
};

absl::StatusOr<std::unique_ptr<Nsqd>> Nsqd::Create(const NsqdOptions& options) {
  absl::StatusOr<std::shared_ptr<net::TlsServerContext>> tls = MakeTlsContext(options);
  if (!tls.ok()) return tls.status();
  std::shared_ptr<asio::ssl::context> auth_tls;
  if (!options.auth_http_addresses.empty()) {
    absl::StatusOr<std::shared_ptr<asio::ssl::context>> made =
        HttpAuthenticator::ClientTlsContext(options);
    if (!made.ok()) return made.status();
    auth_tls = std::move(*made);
  }
  auto impl = std::make_unique<Impl>(options, *tls, std::move(auth_tls));
  Impl* p = impl.get();
  const std::string data_path = options.data_path.empty() ? "." : options.data_path;
  storage::SyncPolicy sync_policy;
  sync_policy.sync_every = static_cast<uint64_t>(std::max<int64_t>(options.sync_every, 0));
  sync_policy.sync_timeout = options.sync_timeout;
  std::vector<BrokerPersistence::Post> posts;
  for (int shard = 0; shard < p->shards.size(); ++shard) {
    posts.push_back([io = p->shards.io(shard)](std::function<void()> fn) {
      asio::post(*io, std::move(fn));
    });
  }
  auto persistence = BrokerPersistence::Open(data_path, std::move(posts), sync_policy);
  if (!persistence.ok()) return persistence.status();
  NSQ_LOG_INFO("store: fsync every %d messages (0: not by count) or %s after a write (0: not "
               "by time)",
               sync_policy.sync_every, absl::FormatDuration(sync_policy.sync_timeout));
  p->persistence = std::move(*persistence);
  for (size_t shard = 0; shard < p->parts.size(); ++shard) {
    p->parts[shard]->broker.context()->store = p->persistence->broker_store(shard);
  }
  // Before anyone listens: restoring is not news for lookupd (it hears everything when it
  // connects) nor for the store (it is where this came from).
  if (absl::Status restored = p->persistence->Restore(p->BrokerPointers()); !restored.ok()) {
    return restored;
  }
  for (size_t shard = 0; shard < p->parts.size(); ++shard) {
    p->parts[shard]->broker.AddListener(p->persistence->listener(shard));
  }

  auto tcp_port = p->tcp.Listen(options.tcp_address);
  if (!tcp_port.ok()) return tcp_port.status();
  p->tcp_port = *tcp_port;
  if (p->https && !options.https_address.empty()) {
    auto https_port = p->https->Listen(options.https_address);
    if (!https_port.ok()) return https_port.status();
    p->https_port = *https_port;
  }
  if (!options.http_address.empty()) {
    auto http_port = p->http.Listen(options.http_address);
    if (!http_port.ok()) return http_port.status();
    p->http_port = *http_port;
  }

  NodeInfo& node = p->node;
  node.version = NsqdVersion();
  node.hostname = net::Hostname();
  node.broadcast_address = options.broadcast_address.empty() ? node.hostname
                                                              : options.broadcast_address;
  node.tcp_port = p->tcp_port;
  node.http_port = p->http_port;
  node.start_time = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  node.health_error = [p] { return p->persistence->health_error(); };
  node.fill_metrics = [p](MetricsPage* page) {
    page->store = StoreMetrics{.writer = p->persistence->writer_stats(),
                               .files = p->persistence->store_stats()};
    if (p->statsd) page->statsd = p->statsd->metrics();
  };
  node.config_value_json = [p](const std::string& key) {
    return NsqdConfigValueJson(p->options, key);
  };
  node.set_config_value = [p](const std::string& key, const std::string& body, int* status,
                              std::string* message) -> std::optional<std::string> {
    if (key == "log_level") {
      log::Level level;
      if (!log::ParseLevel(body, &level)) {
        *status = 400;
        *message = "INVALID_VALUE";
        return std::nullopt;
      }
      log::SetLevel(level);
      p->options.log_level = body;
      return NsqdConfigValueJson(p->options, key);
    }
    if (key == "nsqlookupd_tcp_addresses") {
      auto addresses = ParseAddressList(body);
      if (!addresses) {
        *status = 400;
        *message = "INVALID_VALUE";
        return std::nullopt;
      }
      p->options.nsqlookupd_tcp_addresses = *addresses;
      p->lookupd->SetAddresses(*addresses);
      return NsqdConfigValueJson(p->options, key);
    }
    *status = 400;
    *message = "INVALID_OPTION";
    return std::nullopt;
  };

  protocol::LookupPeerInfo self;
  self.broadcast_address = node.broadcast_address;
  self.hostname = node.hostname;
  self.tcp_port = options.broadcast_tcp_port > 0 ? options.broadcast_tcp_port : p->tcp_port;
  self.http_port = options.broadcast_http_port > 0 ? options.broadcast_http_port : p->http_port;
  self.version = NsqdVersion();
  self.topology_region = options.topology_region;
  self.topology_zone = options.topology_zone;
  p->lookupd = std::make_unique<LookupdClient>(&p->io, &p->brokers, std::move(self));
  for (size_t shard = 0; shard < p->parts.size(); ++shard) {
    p->parts[shard]->broker.AddListener(p->lookupd->listener(shard));
  }
  p->lookupd->SetAddresses(options.nsqlookupd_tcp_addresses);

  if (!options.statsd_address.empty()) {
    const int statsd_http_port =
        options.broadcast_http_port > 0 ? options.broadcast_http_port : p->http_port;
    StatsdPusherOptions statsd;
    statsd.address = options.statsd_address;
    statsd.prefix = StatsdPrefix(options.statsd_prefix, node.broadcast_address, statsd_http_port);
    statsd.interval = options.statsd_interval;
    statsd.mem_stats = options.statsd_mem_stats;
    statsd.packet_size = static_cast<size_t>(options.statsd_udp_packet_size);
    statsd.exclude_ephemeral = options.statsd_exclude_ephemeral;
    p->statsd = std::make_unique<StatsdPusher>(&p->io, &p->brokers, std::move(statsd));
    p->statsd->Start();
  }

  p->signals.async_wait([p](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    NSQ_LOG_INFO("NSQ: received signal %d, exiting", signal);
    p->Stop();
  });
  return std::unique_ptr<Nsqd>(new Nsqd(std::move(impl)));
}

Nsqd::Nsqd(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Nsqd::~Nsqd() = default;

void Nsqd::Run() {
  impl_->shards.Start();
  impl_->shards.RunMain();
  // Every connection has closed: the other shards' loops end once idle. What they handed shard
  // 0 meanwhile (a late connection's goodbye) is run before the broker is persisted.
  impl_->shards.Stop();
  impl_->io.restart();
  impl_->io.poll();
  // Every connection is gone, so in-flight messages are final: keep them for the next start.
  if (absl::Status persisted = impl_->persistence->PersistAll(); !persisted.ok()) {
    NSQ_LOG_ERROR("NSQ: failed to persist messages - %s", persisted.message());
  }
  NSQ_LOG_INFO("NSQ: bye");
}

void Nsqd::Shutdown() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->Stop(); });
}

int Nsqd::tcp_port() const { return impl_->tcp_port; }
int Nsqd::http_port() const { return impl_->http_port; }

}  // namespace nsq::nsqd
