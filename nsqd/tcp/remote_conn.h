// A TCP session and its ClientConn on another shard: the one that owns the topic the
// connection subscribed to (a SUB moves the ClientConn there, see ClientConn::MoveToShard).
// Only TLS and compressed connections take this path: their stream state stays with the
// socket's loop. A plain connection's socket moves to the topic's shard instead (Session::
// MoveSocket in tcp_server.cc) and needs no relay.
//
//   session's shard (the socket's loop)      host shard (the topic's owner)
//   Session --decoded commands--> RemoteConnPort ==batch==> ConnHost --> ClientConn --> broker
//   Session <--encoded frames---- RemoteConnPort <==tasks== ConnHost <-- (its Transport)
//
// Both halves talk only through ShardSet::Post, so each half is touched by its own loop alone
// and the order of everything is kept per direction. Flow control both ways:
//   - commands: the port has at most kMaxUnackedCommands / kMaxUnackedBytes handed over and
//     not yet handled before the session stops reading (the host handles a command only while
//     the ClientConn takes commands, and holds its acknowledgement while the connection has
//     kMaxPendingReplies publishes waiting for the store);
//   - output: the host counts the bytes it sent the session and the session reports what it
//     has written, so a consumer that stops reading is handed no more messages once
//     kMessageOutputLimit bytes wait, exactly as for a ClientConn on the session's shard.
// After an IDENTIFY or AUTH the session waits for the host's word before it decodes more: what
// follows may belong to a TLS or compressed stream, or may need the auth server's answer.
//
// Lifetimes: the port belongs to the session; the host deletes itself once the session has
// said Detach, and its last word to the port is Released, until which the port keeps the
// session alive. Neither side uses the other's memory except inside tasks run on its loop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/shard/shard_set.h"
#include "nsqd/tcp/conn_port.h"

namespace nsq::nsqd {

class ConnHost;

class RemoteConnPort final : public ConnPort {
 public:
  // Runs on the session's shard. `keep_alive` is the session's own shared_ptr, held until the
  // host is gone. The ClientConn is made on `host_shard` from `handover`, with `auth` (that
  // shard's authenticator, or null).
  RemoteConnPort(ShardSet* shards, int session_shard, int host_shard, PortSession* session,
                 std::shared_ptr<void> keep_alive, BrokerSet* brokers, Authenticator* auth,
                 ClientConnHandover handover);
  ~RemoteConnPort() override;

  // ConnPort, on the session's shard.
  bool Handle(protocol::Command&& command) override;
  void DecodeFailed(const protocol::DecodeFailure& failure) override;
  void EndOfInput() override;
  bool Blocked() const override { return waiting_; }
  bool ReadPaused() const override;
  void OutputWritten(size_t port_bytes, bool drained) override;
  void TlsEstablished(const net::TlsSessionInfo& info) override;
  void InputEnded() override;
  void Detach() override;

 private:
  friend class ConnHost;  // its tasks call the private members below, on this shard

  // From the host (its output goes straight to the session: PortSession::SendPortBytes).
  void Acknowledged(size_t commands, size_t bytes);
  void Resume();
  void Released();

  void ToHost(absl::AnyInvocable<void(ConnHost&) &&> task);

  ShardSet* shards_;
  int host_shard_;
  PortSession* session_;
  std::shared_ptr<void> keep_alive_;
  ConnHost* host_;  // used only inside tasks run on the host shard
  std::vector<std::pair<protocol::Command, size_t>> batch_;  // with each command's weight
  size_t batch_bytes_ = 0;
  size_t unacked_commands_ = 0;
  size_t unacked_bytes_ = 0;
  bool waiting_ = false;
  bool detached_ = false;
};

}  // namespace nsq::nsqd
