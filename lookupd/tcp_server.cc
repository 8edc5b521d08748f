#include "lookupd/tcp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <exception>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/net/listener.h"
#include "common/protocol/names.h"

namespace nsq::lookupd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 16 * 1024;

void LogIfFailed(std::exception_ptr error) { log::LogIfFailed(error, "TCP: connection coroutine"); }

// Shared by the server and its connection coroutines, which may outlive the server object by
// one resumption after Stop(); they then see `stopped` and end without touching the database.
struct ServerState {
  ServerState(asio::io_context* io, RegistrationDb* db, const protocol::LookupdInfo* self)
      : io(io), db(db), self(self), acceptor(*io) {}

  asio::io_context* io;
  RegistrationDb* db;
  const protocol::LookupdInfo* self;
  tcp::acceptor acceptor;
  bool stopped = false;
  std::unordered_set<tcp::socket*> sockets;
};

// One nsqd connection: its decoder state and, once identified, its peer id.
class Connection {
 public:
  Connection(std::shared_ptr<ServerState> server, tcp::socket socket)
      : server_(std::move(server)), socket_(std::move(socket)) {
    boost::system::error_code ec;
    remote_ = net::FormatEndpoint(socket_.remote_endpoint(ec));
    server_->sockets.insert(&socket_);
  }
  ~Connection() { server_->sockets.erase(&socket_); }

  static asio::awaitable<void> Serve(std::unique_ptr<Connection> self) { co_await self->Run(); }

 private:
  asio::awaitable<void> Run() {
    NSQ_LOG_INFO("TCP: new client(%s)", remote_);
    std::string buffer(kReadChunk, '\0');
    bool open = true;
    while (open) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), kUseTuple);
      if (server_->stopped) co_return;
      std::string out;
      if (ec) {
        // A cut-off IDENTIFY is answered before closing, as upstream does.
        if (auto error = decoder_.ErrorAtEndOfInput()) {
          LogError(*error);
          protocol::AppendLookupResponse(protocol::LookupErrorData(*error), &out);
        }
        open = false;
      } else {
        open = Process(std::string_view(buffer.data(), n), &out);
      }
      if (!out.empty()) {
        auto [write_ec, written] =
            co_await asio::async_write(socket_, asio::buffer(out), kUseTuple);
        if (server_->stopped) co_return;
        if (write_ec) open = false;
      }
    }
    Close();
  }

  // Applies every complete command in `input`; false once the connection must close.
  bool Process(std::string_view input, std::string* out) {
    while (!input.empty()) {
      size_t used = 0;
      const auto result = decoder_.Decode(input, &used);
      input.remove_prefix(used);
      if (result == protocol::LookupRequestDecoder::Result::kNeedMore) break;
      if (result == protocol::LookupRequestDecoder::Result::kError) {
        LogError(decoder_.error());
        protocol::AppendLookupResponse(protocol::LookupErrorData(decoder_.error()), out);
        return false;
      }
      protocol::AppendLookupResponse(Apply(decoder_.command()), out);
    }
    return true;
  }

  void LogError(const protocol::ClientError& error) {
    NSQ_LOG_ERROR("client(%s) - %s", remote_, protocol::LookupErrorData(error));
  }

  // The reply to one valid command.
  std::string Apply(const protocol::LookupCommand& command) {
    RegistrationDb& db = *server_->db;
    switch (command.type) {
      case protocol::LookupCommandType::kPing:
        if (identified_) {
          NSQ_LOG_DEBUG("CLIENT(%s): pinged", remote_);
          db.TouchPeer(remote_);
        }
        return "OK";

      case protocol::LookupCommandType::kIdentify: {
        const protocol::LookupPeerInfo& info = command.peer;
        NSQ_LOG_INFO("CLIENT(%s): IDENTIFY Address:%s TCP:%d HTTP:%d Version:%s", remote_,
                     info.broadcast_address, info.tcp_port, info.http_port, info.version);
        db.AddPeer(PeerInfo{remote_, remote_, info, 0});
        identified_ = true;
        if (db.AddProducer({std::string(kClientCategory), "", ""}, remote_)) {
          NSQ_LOG_INFO("DB: client(%s) REGISTER category:client key: subkey:", remote_);
        }
        return protocol::EncodeLookupIdentifyResponse(*server_->self);
      }

      case protocol::LookupCommandType::kRegister:
        if (!command.channel.empty()) {
          Add({std::string(kChannelCategory), command.topic, command.channel});
        }
        Add({std::string(kTopicCategory), command.topic, ""});
        return "OK";

      case protocol::LookupCommandType::kUnregister:
        Unregister(command.topic, command.channel);
        return "OK";
    }
    return "OK";
  }

  void Add(const Registration& r) {
    if (server_->db->AddProducer(r, remote_)) {
      NSQ_LOG_INFO("DB: client(%s) REGISTER category:%s key:%s subkey:%s", remote_, r.category,
                   r.key, r.subkey);
    }
  }

  void Unregister(const std::string& topic, const std::string& channel) {
    RegistrationDb& db = *server_->db;
    if (!channel.empty()) {
      const Registration key{std::string(kChannelCategory), topic, channel};
      const auto [removed, left] = db.RemoveProducer(key, remote_);
      if (removed) {
        NSQ_LOG_INFO("DB: client(%s) UNREGISTER category:channel key:%s subkey:%s", remote_, topic,
                     channel);
      }
      // An ephemeral channel goes away with its last producer.
      if (left == 0 && protocol::IsEphemeralName(channel)) db.RemoveRegistration(key);
      return;
    }
    // A topic unregistration also drops the peer's channels of the topic; nsqd normally
    // unregisters those first, hence the warning. Found through the peer's own index, so the
    // cost is that of the channels this peer has, not of every channel of the topic.
    const bool any_topic = topic == "*";  // unreachable (names are validated), but Go's match
    std::vector<Registration> channels;
    db.VisitPeerRegistrations(remote_, kChannelCategory,
                              {std::string(kChannelCategory), any_topic ? "" : topic, ""},
                              [&](const Registration& r, const RegistrationDb::ProducerState&) {
                                // Sorted: the first other topic ends this one's channels.
                                if (!any_topic && r.key != topic) return false;
                                channels.push_back(r);
                                return true;
                              });
    for (const Registration& r : channels) {
      if (db.RemoveProducer(r, remote_).first) {
        NSQ_LOG_WARN("client(%s) unexpected UNREGISTER category:channel key:%s subkey:%s", remote_,
                     r.key, r.subkey);
      }
    }
    const Registration key{std::string(kTopicCategory), topic, ""};
    const auto [removed, left] = db.RemoveProducer(key, remote_);
    if (removed) {
      NSQ_LOG_INFO("DB: client(%s) UNREGISTER category:topic key:%s subkey:", remote_, topic);
    }
    if (left == 0 && protocol::IsEphemeralName(topic)) db.RemoveRegistration(key);
  }

  void Close() {
    NSQ_LOG_INFO("CLIENT(%s): closing", remote_);
    if (identified_) {
      for (const Registration& r : server_->db->RemovePeer(remote_)) {
        NSQ_LOG_INFO("DB: client(%s) UNREGISTER category:%s key:%s subkey:%s", remote_, r.category,
                     r.key, r.subkey);
      }
    }
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  std::shared_ptr<ServerState> server_;
  tcp::socket socket_;
  std::string remote_;
  protocol::LookupRequestDecoder decoder_;
  bool identified_ = false;
};

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> server) {
  for (;;) {
    auto [ec, socket] = co_await server->acceptor.async_accept(kUseTuple);
    if (server->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning.
      NSQ_LOG_ERROR("TCP: accept failed - %s", ec.message());
      asio::steady_timer pause(*server->io, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      if (server->stopped) co_return;
      continue;
    }
    net::ConfigureAccepted(socket);
    auto connection = std::make_unique<Connection>(server, std::move(socket));
    asio::co_spawn(*server->io, Connection::Serve(std::move(connection)), LogIfFailed);
  }
}

}  // namespace

struct LookupdTcpServer::Impl {
  std::shared_ptr<ServerState> state;
};

LookupdTcpServer::LookupdTcpServer(asio::io_context* io, RegistrationDb* db,
                                   const protocol::LookupdInfo* self)
    : impl_(std::make_unique<Impl>(Impl{std::make_shared<ServerState>(io, db, self)})) {}

LookupdTcpServer::~LookupdTcpServer() { Stop(); }

absl::StatusOr<int> LookupdTcpServer::Listen(const std::string& address) {
  ServerState& state = *impl_->state;
  absl::StatusOr<int> port = net::OpenListener(&state.acceptor, address, "TCP");
  if (!port.ok()) return port.status();
  asio::co_spawn(*state.io, AcceptLoop(impl_->state), LogIfFailed);
  return *port;
}

void LookupdTcpServer::Stop() {
  ServerState& state = *impl_->state;
  if (state.stopped) return;
  state.stopped = true;
  boost::system::error_code ignored;
  state.acceptor.close(ignored);
  // Closing cancels each connection's pending read or write; its coroutine then ends.
  const std::vector<tcp::socket*> open(state.sockets.begin(), state.sockets.end());
  for (tcp::socket* socket : open) socket->close(ignored);
}

}  // namespace nsq::lookupd
