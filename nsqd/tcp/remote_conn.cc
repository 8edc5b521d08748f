#include "nsqd/tcp/remote_conn.h"

#include <deque>
#include <optional>
#include <utility>

#include "common/log/logger.h"
#include "common/protocol/frame.h"
#include "common/protocol/message.h"
#include "nsqd/tcp/client_conn.h"

namespace nsq::nsqd {
namespace {

// Commands handed to the host and not yet handled, before the session stops reading.
constexpr size_t kMaxUnackedCommands = 1024;
constexpr size_t kMaxUnackedBytes = 4 * 1024 * 1024;

// What a command weighs for the flow control: its bytes, roughly as they came in.
size_t CommandBytes(const protocol::Command& command) {
  size_t bytes = 16 + command.body.size();
  for (const std::string& param : command.params) bytes += param.size() + 1;
  for (const protocol::Body& message : command.messages) bytes += message.size() + 4;
  return bytes;
}

// After these the session decodes nothing more until the host says so.
bool SessionWaitsAfter(protocol::CommandName name) {
  return name == protocol::CommandName::kIdentify || name == protocol::CommandName::kAuth;
}

}  // namespace

// The host shard's half: owns the ClientConn and is its Transport, forwarding to the port.
class ConnHost final : public Transport {
 public:
  ConnHost(ShardSet* shards, int session_shard, RemoteConnPort* port)
      : shards_(shards), session_shard_(session_shard), port_(port) {}
  ~ConnHost() { *self_ = nullptr; }

  void Open(BrokerSet* brokers, ClientConnHandover handover, Authenticator* auth) {
    tls_info_ = handover.tls_info;
    conn_.emplace(brokers, this, std::move(handover), auth);
    // Moved here just as shutdown began: the broker's Close did not see this connection.
    if (brokers->local().closing()) conn_->CloseConnection();
  }

  void HandleBatch(std::vector<std::pair<protocol::Command, size_t>> batch) {
    for (auto& entry : batch) queue_.push_back(std::move(entry));
    Drain();
  }

  void DecodeFailed(const protocol::DecodeFailure& failure) { conn_->DecodeFailed(failure); }

  void Written(size_t bytes) {
    pending_output_ -= std::min(bytes, pending_output_);
    if (turned_away_ && pending_output_ < kMessageOutputLimit) {
      turned_away_ = false;
      conn_->OutputDrained();
    }
  }

  void SetTlsInfo(net::TlsSessionInfo info) { tls_info_ = std::move(info); }

  // After the commands still queued here: they are answered before the close.
  void InputEnded() {
    input_ended_ = true;
    Drain();
  }

  // The session is gone: leave the broker, tell the port, and end.
  void Detach() {
    conn_->Detach();
    conn_.reset();
    ToPort([](RemoteConnPort& port) { port.Released(); });
    delete this;
  }

  // Transport, called by the ClientConn on the host shard. Frames and messages are encoded
  // here and go to the session as one batch of bytes per turn of the loop.
  void SendFrame(protocol::FrameType type, std::string_view data) override {
    const size_t before = out_.size();
    protocol::AppendFrame(type, data, &out_);
    pending_output_ += out_.size() - before;
    out_urgent_ = true;
    OutputQueued();
    MaybeAcknowledge();  // a reply went out: publishes waiting for the store may be fewer
  }
  void SendMessage(const protocol::Message& message) override {
    const size_t before = out_.size();
    protocol::AppendMessageFrame(message, &out_);
    pending_output_ += out_.size() - before;
    OutputQueued();
  }
  void FlushSoon() override {
    out_urgent_ = true;
    OutputQueued();
  }
  void ApplySettings(const ClientSettings& settings) override {
    ToPort([settings](RemoteConnPort& port) { port.session_->ApplySettings(settings); });
  }
  void CloseAfterFlush() override {
    ToPort([](RemoteConnPort& port) { port.session_->CloseAfterFlush(); });
  }
  void CloseNow() override {
    ToPort([](RemoteConnPort& port) { port.session_->CloseNow(); });
  }
  void StartUpgrades(const StreamUpgrades& upgrades) override {
    ToPort([upgrades](RemoteConnPort& port) { port.session_->StartUpgrades(upgrades); });
  }
  net::TlsSessionInfo TlsInfo() const override { return tls_info_; }
  void MoveTo(size_t shard, ClientConnHandover handover, protocol::Command sub) override {
    // A ClientConn arrives here at its SUB and is subscribed on its owner: it never moves on.
    NSQ_LOG_ERROR("[%s] a connection cannot move twice", handover.remote_address);
    CloseNow();
  }
  void ResumeCommands() override { Drain(); }
  bool OutputBacklogged() const override {
    if (pending_output_ < kMessageOutputLimit) return false;
    turned_away_ = true;  // Written says when it drains
    return true;
  }

 private:
  // Handles queued commands while the ClientConn takes them; tells the session to go on once
  // an IDENTIFY or AUTH it waits on is done.
  void Drain() {
    if (draining_ || !conn_) return;
    draining_ = true;
    while (!queue_.empty() && !conn_->blocked()) {
      auto [command, bytes] = std::move(queue_.front());
      queue_.pop_front();
      ++handled_commands_;
      handled_bytes_ += bytes;
      if (SessionWaitsAfter(command.name)) session_waiting_ = true;
      // After a fatal error the ClientConn refuses everything; the session is closing.
      conn_->Handle(std::move(command));
    }
    draining_ = false;
    if (input_ended_ && queue_.empty()) {
      input_ended_ = false;
      conn_->CloseConnection();
    }
    if (session_waiting_ && !conn_->blocked()) {
      session_waiting_ = false;
      ToPort([](RemoteConnPort& port) { port.Resume(); });
    }
    MaybeAcknowledge();
  }

  // Acknowledges handled commands, unless publishes pile up waiting for the store (the
  // session then stops reading, as LocalConnPort::ReadPaused does for a local ClientConn).
  void MaybeAcknowledge() {
    if (handled_commands_ == 0 || !conn_ || conn_->pending_replies() >= kMaxPendingReplies) {
      return;
    }
    ToPort([commands = handled_commands_, bytes = handled_bytes_](RemoteConnPort& port) {
      port.Acknowledged(commands, bytes);
    });
    handled_commands_ = 0;
    handled_bytes_ = 0;
  }

  // Output was added: it goes to the session at the end of this turn.
  void OutputQueued() {
    if (output_scheduled_) return;
    output_scheduled_ = true;
    shards_->Defer([self = self_] {
      if (*self != nullptr) (*self)->SendOutput();
    });
  }

  void SendOutput() {
    output_scheduled_ = false;
    if (out_.empty() && !out_urgent_) return;
    shards_->Post(session_shard_,
                  [port = port_, bytes = std::move(out_), urgent = out_urgent_]() mutable {
                    port->session_->SendPortBytes(bytes, urgent);
                  });
    out_.clear();  // moved from: make it empty again
    out_urgent_ = false;
  }

  // Everything else goes after the output queued before it.
  void ToPort(absl::AnyInvocable<void(RemoteConnPort&) &&> task) {
    SendOutput();
    shards_->Post(session_shard_, [port = port_, task = std::move(task)]() mutable {
      std::move(task)(*port);
    });
  }

  ShardSet* shards_;
  int session_shard_;
  RemoteConnPort* port_;  // used only inside tasks run on the session's shard
  std::optional<ClientConn> conn_;
  std::deque<std::pair<protocol::Command, size_t>> queue_;
  size_t handled_commands_ = 0;
  size_t handled_bytes_ = 0;
  bool session_waiting_ = false;
  bool draining_ = false;
  bool input_ended_ = false;  // the client closed its side: close once the queue is handled
  std::string out_;          // encoded frames for the session, sent at the end of the turn
  bool out_urgent_ = false;  // out_ holds a response or error frame, or a flush was asked for
  bool output_scheduled_ = false;
  size_t pending_output_ = 0;         // bytes sent to the session and not yet written by it
  mutable bool turned_away_ = false;  // a delivery was refused by OutputBacklogged
  net::TlsSessionInfo tls_info_;
  // Cleared when this host is deleted; the deferred SendOutput checks it.
  std::shared_ptr<ConnHost*> self_ = std::make_shared<ConnHost*>(this);
};

RemoteConnPort::RemoteConnPort(ShardSet* shards, int session_shard, int host_shard,
                               PortSession* session, std::shared_ptr<void> keep_alive,
                               BrokerSet* brokers, Authenticator* auth,
                               ClientConnHandover handover)
    : shards_(shards),
      host_shard_(host_shard),
      session_(session),
      keep_alive_(std::move(keep_alive)),
      host_(new ConnHost(shards, session_shard, this)) {
  ToHost([brokers, auth, handover = std::move(handover)](ConnHost& host) mutable {
    host.Open(brokers, std::move(handover), auth);
  });
}

RemoteConnPort::~RemoteConnPort() = default;

bool RemoteConnPort::Handle(protocol::Command&& command) {
  if (detached_) return false;
  if (SessionWaitsAfter(command.name)) waiting_ = true;
  const size_t bytes = CommandBytes(command);
  batch_bytes_ += bytes;
  batch_.emplace_back(std::move(command), bytes);
  return true;
}

void RemoteConnPort::DecodeFailed(const protocol::DecodeFailure& failure) {
  if (detached_) return;
  EndOfInput();  // the commands before the bad one come first
  ToHost([failure](ConnHost& host) { host.DecodeFailed(failure); });
}

void RemoteConnPort::EndOfInput() {
  if (batch_.empty() || detached_) return;
  unacked_commands_ += batch_.size();
  unacked_bytes_ += batch_bytes_;
  batch_bytes_ = 0;
  ToHost([batch = std::move(batch_)](ConnHost& host) mutable {
    host.HandleBatch(std::move(batch));
  });
  batch_.clear();  // moved from: make it empty again
}

bool RemoteConnPort::ReadPaused() const {
  return waiting_ || unacked_commands_ >= kMaxUnackedCommands ||
         unacked_bytes_ >= kMaxUnackedBytes;
}

void RemoteConnPort::OutputWritten(size_t port_bytes, bool drained) {
  if (port_bytes == 0 || detached_) return;
  ToHost([port_bytes](ConnHost& host) { host.Written(port_bytes); });
}

void RemoteConnPort::TlsEstablished(const net::TlsSessionInfo& info) {
  if (detached_) return;
  ToHost([info](ConnHost& host) { host.SetTlsInfo(info); });
}

void RemoteConnPort::InputEnded() {
  if (detached_) return;
  EndOfInput();  // after the commands it sent
  ToHost([](ConnHost& host) { host.InputEnded(); });
}

void RemoteConnPort::Detach() {
  if (detached_) return;
  EndOfInput();
  detached_ = true;  // nothing goes to the host after this: it deletes itself on Detach
  ToHost([](ConnHost& host) { host.Detach(); });
}

void RemoteConnPort::Acknowledged(size_t commands, size_t bytes) {
  unacked_commands_ -= std::min(commands, unacked_commands_);
  unacked_bytes_ -= std::min(bytes, unacked_bytes_);
  session_->ResumeCommands();  // reading may go on
}

void RemoteConnPort::Resume() {
  waiting_ = false;
  session_->ResumeCommands();
}

void RemoteConnPort::Released() {
  // The last use of this port: dropping the session's reference may destroy both.
  std::shared_ptr<void> last = std::move(keep_alive_);
}

void RemoteConnPort::ToHost(absl::AnyInvocable<void(ConnHost&) &&> task) {
  shards_->Post(host_shard_,
                [host = host_, task = std::move(task)]() mutable { std::move(task)(*host); });
}

}  // namespace nsq::nsqd
