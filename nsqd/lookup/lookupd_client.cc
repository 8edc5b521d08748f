#include "nsqd/lookup/lookupd_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <deque>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log/logger.h"
#include "common/net/host_port.h"
#include "common/protocol/names.h"

namespace nsq::nsqd {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
// nsqd's timings: 1 s to dial and for each exchange, a PING every 15 s.
constexpr auto kIoTimeout = 1s;
constexpr auto kPingInterval = 15s;
constexpr auto kMinBackoff = 1s;
constexpr auto kMaxBackoff = 15s;
constexpr uint32_t kMaxReplySize = 5 << 20;

void LogIfFailed(std::exception_ptr error) { log::LogIfFailed(error, "LOOKUP: coroutine"); }

// GET http://<address>/channels?topic=<topic> (HTTP/1.0, so the body ends at EOF). Returns the
// channel names, or nothing on any failure (which nsqd only logs). As nsqd's HTTP client, the
// connect takes at most `connect_timeout` and the whole request at most `request_timeout`
// (--http-client-connect-timeout / --http-client-request-timeout).
asio::awaitable<std::vector<std::string>> FetchChannels(std::string address, std::string topic,
                                                        absl::Duration connect_timeout,
                                                        absl::Duration request_timeout) {
  std::vector<std::string> channels;
  auto host_port = net::SplitHostPort(address);
  if (!host_port.ok()) co_return channels;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  asio::steady_timer timer(executor);
  const std::string host = host_port->first;
  const std::string port = std::to_string(host_port->second);
  auto resolved = co_await resolver.async_resolve(host, port, kUseAwaitable);
  if (std::get<0>(resolved)) co_return channels;
  const tcp::resolver::results_type endpoints = std::get<1>(resolved);
  // Topic names are [.a-zA-Z0-9_-#]: only '#' needs escaping in a query.
  std::string query_topic;
  for (char c : topic) query_topic += c == '#' ? std::string("%23") : std::string(1, c);
  const std::string request = absl::StrCat("GET /channels?topic=", query_topic,
                                           " HTTP/1.0\r\nHost: ", address,
                                           "\r\nAccept: application/vnd.nsq; version=1.0\r\n\r\n");
  std::string response;
  const auto started = std::chrono::steady_clock::now();
  const auto request_deadline = started + absl::ToChronoNanoseconds(request_timeout);
  timer.expires_at(std::min(started + absl::ToChronoNanoseconds(connect_timeout), request_deadline));
  auto connected = co_await (asio::async_connect(socket, endpoints, kUseAwaitable) ||
                             timer.async_wait(kUseAwaitable));
  if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) {
    NSQ_LOG_WARN("LOOKUP: GET http://%s/channels?topic=%s - %s", address, topic,
                 connected.index() == 1 ? std::string("connect timed out")
                                        : std::get<0>(std::get<0>(connected)).message());
    co_return channels;
  }
  timer.expires_at(request_deadline);
  auto written = co_await (asio::async_write(socket, asio::buffer(request), kUseAwaitable) ||
                           timer.async_wait(kUseAwaitable));
  if (written.index() == 1 || std::get<0>(std::get<0>(written))) co_return channels;
  auto read = co_await (asio::async_read(socket, asio::dynamic_buffer(response, kMaxReplySize),
                                         kUseAwaitable) ||
                        timer.async_wait(kUseAwaitable));
  if (read.index() == 1) {  // timed out; EOF is the normal end
    NSQ_LOG_WARN("LOOKUP: GET http://%s/channels?topic=%s - request timed out", address, topic);
    co_return channels;
  }
  const size_t body_start = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.substr(9, 3) != "200" ||
      body_start == std::string::npos) {
    co_return channels;
  }
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(response.substr(body_start + 4), ec);
  if (ec || !json.is_object()) co_return channels;
  const boost::json::value* list = json.as_object().if_contains("channels");
  if (list == nullptr || !list->is_array()) co_return channels;
  for (const auto& item : list->as_array()) {
    if (item.is_string()) channels.emplace_back(item.as_string());
  }
  co_return channels;
}

// Creates the durable ones of `channels` in the held topic and releases its hold, on its
// owner's loop.
void ReleaseWithChannels(BrokerSet* brokers, const std::string& topic,
                         std::vector<std::string> channels) {
  brokers->OnOwner(topic, [topic, channels = std::move(channels)](Broker& broker) {
    Topic* held = broker.FindTopic(topic);
    if (held == nullptr) return;
    for (const std::string& channel : channels) {
      if (!protocol::IsValidChannelName(channel) || protocol::IsEphemeralName(channel)) continue;
      held->GetOrCreateChannel(channel);
    }
    held->ReleaseHold();
  });
}

// Asks every lookupd for the topic's channels, then has them created and the topic's hold
// released. Runs after the LookupdClient may be gone: `alive` tells.
asio::awaitable<void> DiscoverChannels(std::shared_ptr<bool> alive, BrokerSet* brokers,
                                       std::string topic, std::vector<std::string> addresses) {
  std::vector<std::string> found;
  const absl::Duration connect_timeout = brokers->local().options().http_client_connect_timeout;
  const absl::Duration request_timeout = brokers->local().options().http_client_request_timeout;
  for (const std::string& address : addresses) {
    std::vector<std::string> channels =
        co_await FetchChannels(address, topic, connect_timeout, request_timeout);
    found.insert(found.end(), channels.begin(), channels.end());
  }
  if (!*alive) co_return;
  ReleaseWithChannels(brokers, topic, std::move(found));
}

}  // namespace

// One lookupd connection with its own coroutine. Commands are queued while connected; while
// disconnected they are dropped, because a reconnect re-registers the broker's whole state.
class LookupdClient::Peer : public std::enable_shared_from_this<Peer> {
 public:
  Peer(asio::io_context* io, std::shared_ptr<const Registry> registry, std::string address,
       protocol::LookupPeerInfo self)
      : registry_(std::move(registry)),
        address_(std::move(address)),
        self_(std::move(self)),
        socket_(*io),
        wake_(*io),
        timer_(*io) {}

  const std::string& address() const { return address_; }
  // lookupd's HTTP address while connected: the host we reached it at and the HTTP port its
  // IDENTIFY reply gave (Go uses the broadcast address, which need not resolve from here).
  std::optional<std::string> http_address() const {
    if (!connected_ || http_port_ <= 0) return std::nullopt;
    return net::JoinHostPort(host_, http_port_);
  }

  void Start() { asio::co_spawn(socket_.get_executor(), Run(shared_from_this()), LogIfFailed); }

  void Stop() {
    stopped_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
    wake_.cancel();
    timer_.cancel();
  }

  void Send(const std::string& command) {
    if (!connected_) return;
    queue_.push_back(command);
    wake_.cancel();
  }

 private:
  static asio::awaitable<void> Run(std::shared_ptr<Peer> self) { co_await self->Loop(); }

  asio::awaitable<void> Loop() {
    auto backoff = std::chrono::steady_clock::duration(kMinBackoff);
    while (!stopped_) {
      const bool ok = co_await Session();
      connected_ = false;
      queue_.clear();
      boost::system::error_code ec;
      socket_.close(ec);
      if (stopped_) break;
      if (ok) backoff = kMinBackoff;
      NSQ_LOG_INFO("LOOKUPD(%s): reconnecting in %dms", address_,
                   std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
      timer_.expires_after(backoff);
      co_await timer_.async_wait(kUseAwaitable);
      backoff = std::min<std::chrono::steady_clock::duration>(backoff * 2, kMaxBackoff);
    }
  }

  // Connects, identifies, registers everything, then serves commands and pings until an
  // error. Returns true when the connection had been established.
  asio::awaitable<bool> Session() {
    auto host_port = net::SplitHostPort(address_);
    if (!host_port.ok()) {
      NSQ_LOG_ERROR("LOOKUPD(%s): %s", address_, host_port.status().message());
      co_return false;
    }
    // g++ 12 mishandles temporaries and structured bindings around co_await: every operand
    // is a named local and results are unpacked with std::get.
    tcp::resolver resolver(socket_.get_executor());
    const std::string host = host_port->first.empty() ? "127.0.0.1" : host_port->first;
    const std::string port = std::to_string(host_port->second);
    auto resolved = co_await resolver.async_resolve(host, port, kUseAwaitable);
    if (std::get<0>(resolved)) {
      NSQ_LOG_ERROR("LOOKUPD(%s): resolve failed - %s", address_, std::get<0>(resolved).message());
      co_return false;
    }
    const tcp::resolver::results_type endpoints = std::get<1>(resolved);
    timer_.expires_after(kIoTimeout);
    auto connected = co_await (asio::async_connect(socket_, endpoints, kUseAwaitable) ||
                               timer_.async_wait(kUseAwaitable));
    if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) {
      NSQ_LOG_ERROR("LOOKUPD(%s): connect failed", address_);
      co_return false;
    }
    decoder_ = protocol::LookupResponseDecoder(kMaxReplySize);
    buffered_.clear();

    const std::string hello =
        std::string(protocol::kMagicV1) + protocol::EncodeLookupIdentify(self_);
    std::optional<std::string> reply = co_await Exchange(hello);
    if (!reply) co_return false;
    auto lookupd_info = protocol::ParseLookupIdentifyResponse(*reply);
    if (protocol::IsLookupErrorResponse(*reply) || !lookupd_info.ok()) {
      NSQ_LOG_ERROR("LOOKUPD(%s): IDENTIFY refused: %s", address_, *reply);
      co_return false;
    }
    host_ = host;
    http_port_ = lookupd_info->http_port;
    connected_ = true;
    // As nsqd: what lookupd said about itself, once registered with it.
    NSQ_LOG_INFO("LOOKUPD(%s): peer info %s", address_, *reply);

    // Re-announce the whole state: one REGISTER per channel, or the topic alone.
    for (const auto& [topic, channels] : *registry_) {
      if (channels.empty()) queue_.push_back(protocol::EncodeLookupRegister(topic));
      for (const std::string& channel : channels) {
        queue_.push_back(protocol::EncodeLookupRegister(topic, channel));
      }
    }

    auto next_ping = std::chrono::steady_clock::now() + kPingInterval;
    while (!stopped_) {
      if (queue_.empty()) {
        // While idle, watch the socket too: lookupd never speaks first, so readable means it
        // closed (restart), and we reconnect now instead of at the next PING.
        wake_.expires_at(next_ping);
        auto woke = co_await (wake_.async_wait(kUseAwaitable) ||
                              socket_.async_wait(tcp::socket::wait_read, kUseAwaitable));
        if (stopped_) break;
        if (woke.index() == 1) {
          NSQ_LOG_INFO("LOOKUPD(%s): connection closed by lookupd", address_);
          co_return true;
        }
        if (queue_.empty() && std::chrono::steady_clock::now() >= next_ping) {
          queue_.push_back(protocol::EncodeLookupPing());
        }
        continue;
      }
      std::string command = std::move(queue_.front());
      queue_.pop_front();
      auto answer = co_await Exchange(command);
      if (!answer) co_return true;
      if (protocol::IsLookupErrorResponse(*answer)) {
        NSQ_LOG_ERROR("LOOKUPD(%s): %s", address_, *answer);
      }
      if (command == protocol::EncodeLookupPing()) next_ping += kPingInterval;
    }
    co_return true;
  }

  // Writes a request and reads one reply, each within the I/O timeout.
  asio::awaitable<std::optional<std::string>> Exchange(const std::string& request) {
    timer_.expires_after(kIoTimeout);
    auto written = co_await (asio::async_write(socket_, asio::buffer(request), kUseAwaitable) ||
                             timer_.async_wait(kUseAwaitable));
    if (written.index() == 1 || std::get<0>(std::get<0>(written))) {
      NSQ_LOG_ERROR("LOOKUPD(%s): write failed", address_);
      co_return std::nullopt;
    }
    char chunk[4096];
    while (true) {
      size_t used = 0;
      auto result = decoder_.Decode(buffered_, &used);
      buffered_.erase(0, used);
      if (result == protocol::LookupResponseDecoder::Result::kResponse) {
        co_return decoder_.response();
      }
      if (result == protocol::LookupResponseDecoder::Result::kError) {
        NSQ_LOG_ERROR("LOOKUPD(%s): bad reply: %s", address_, decoder_.error());
        co_return std::nullopt;
      }
      timer_.expires_after(kIoTimeout);
      auto read = co_await (socket_.async_read_some(asio::buffer(chunk), kUseAwaitable) ||
                            timer_.async_wait(kUseAwaitable));
      if (read.index() == 1) {
        NSQ_LOG_ERROR("LOOKUPD(%s): read timed out", address_);
        co_return std::nullopt;
      }
      const auto& [ec, n] = std::get<0>(read);
      if (ec) {
        NSQ_LOG_ERROR("LOOKUPD(%s): read failed - %s", address_, ec.message());
        co_return std::nullopt;
      }
      buffered_.append(chunk, n);
    }
  }

  std::shared_ptr<const Registry> registry_;
  std::string address_;
  protocol::LookupPeerInfo self_;
  tcp::socket socket_;
  asio::steady_timer wake_;
  asio::steady_timer timer_;
  protocol::LookupResponseDecoder decoder_{kMaxReplySize};
  std::string buffered_;
  std::deque<std::string> queue_;
  std::string host_;
  int64_t http_port_ = 0;
  bool connected_ = false;
  bool stopped_ = false;
};

// One shard's broker tells its relay; the relay tells the client on shard 0.
class LookupdClient::ShardRelay final : public BrokerListener {
 public:
  ShardRelay(LookupdClient* client, size_t shard) : client_(client), shard_(shard) {}

  void TopicCreated(const std::string& topic) override {
    // Held here, at once, before anything is published to it; released from shard 0.
    bool held = false;
    if (!protocol::IsEphemeralName(topic)) {
      if (Topic* created = client_->brokers_->broker(shard_).FindTopic(topic)) {
        created->HoldForChannelDiscovery();
        held = true;
      }
    }
    ToClient([topic, held](LookupdClient& client) { client.TopicCreated(topic, held); });
  }
  void TopicDeleted(const std::string& topic) override {
    ToClient([topic](LookupdClient& client) { client.TopicDeleted(topic); });
  }
  void ChannelCreated(const std::string& topic, const std::string& channel) override {
    ToClient([topic, channel](LookupdClient& client) { client.ChannelCreated(topic, channel); });
  }
  void ChannelDeleted(const std::string& topic, const std::string& channel) override {
    ToClient([topic, channel](LookupdClient& client) { client.ChannelDeleted(topic, channel); });
  }

 private:
  void ToClient(absl::AnyInvocable<void(LookupdClient&) &&> task) {
    client_->brokers_->Post(0, [client = client_, task = std::move(task)]() mutable {
      std::move(task)(*client);
    });
  }

  LookupdClient* client_;
  size_t shard_;
};

LookupdClient::LookupdClient(asio::io_context* io, BrokerSet* brokers,
                             protocol::LookupPeerInfo self)
    : io_(io), brokers_(brokers), self_(std::move(self)) {
  for (size_t shard = 0; shard < brokers_->size(); ++shard) {
    relays_.push_back(std::make_unique<ShardRelay>(this, shard));
    for (Topic* topic : brokers_->broker(shard).Topics()) {
      std::set<std::string>& channels = (*registry_)[topic->name()];
      for (Channel* channel : topic->Channels()) channels.insert(channel->name());
    }
  }
}

BrokerListener* LookupdClient::listener(size_t shard) { return relays_[shard].get(); }

LookupdClient::~LookupdClient() { Stop(); }

void LookupdClient::SetAddresses(const std::vector<std::string>& addresses) {
  std::vector<std::shared_ptr<Peer>> kept;
  for (auto& peer : peers_) {
    if (std::find(addresses.begin(), addresses.end(), peer->address()) != addresses.end()) {
      kept.push_back(peer);
    } else {
      NSQ_LOG_INFO("LOOKUPD(%s): removed", peer->address());
      peer->Stop();
    }
  }
  for (const std::string& address : addresses) {
    auto known = std::find_if(kept.begin(), kept.end(),
                              [&](const auto& peer) { return peer->address() == address; });
    if (known != kept.end()) continue;
    NSQ_LOG_INFO("LOOKUPD(%s): adding peer", address);
    auto peer = std::make_shared<Peer>(io_, registry_, address, self_);
    peer->Start();
    kept.push_back(std::move(peer));
  }
  peers_ = std::move(kept);
  addresses_ = addresses;
}

void LookupdClient::Stop() {
  *alive_ = false;
  for (auto& peer : peers_) peer->Stop();
  peers_.clear();
}

void LookupdClient::Broadcast(const std::string& command) {
  for (auto& peer : peers_) peer->Send(command);
}

std::vector<std::string> LookupdClient::ConnectedHttpAddresses() const {
  std::vector<std::string> addresses;
  for (const auto& peer : peers_) {
    if (auto address = peer->http_address()) addresses.push_back(*address);
  }
  return addresses;
}

void LookupdClient::TopicCreated(const std::string& topic, bool held) {
  (*registry_)[topic];
  Broadcast(protocol::EncodeLookupRegister(topic));
  if (!held) return;
  std::vector<std::string> addresses = ConnectedHttpAddresses();
  if (addresses.empty()) {
    ReleaseWithChannels(brokers_, topic, {});
    return;
  }
  asio::co_spawn(*io_, DiscoverChannels(alive_, brokers_, topic, std::move(addresses)),
                 LogIfFailed);
}

void LookupdClient::TopicDeleted(const std::string& topic) {
  registry_->erase(topic);
  Broadcast(protocol::EncodeLookupUnregister(topic));
}

void LookupdClient::ChannelCreated(const std::string& topic, const std::string& channel) {
  (*registry_)[topic].insert(channel);
  Broadcast(protocol::EncodeLookupRegister(topic, channel));
}

void LookupdClient::ChannelDeleted(const std::string& topic, const std::string& channel) {
  auto it = registry_->find(topic);
  if (it != registry_->end()) it->second.erase(channel);
  Broadcast(protocol::EncodeLookupUnregister(topic, channel));
}

}  // namespace nsq::nsqd
