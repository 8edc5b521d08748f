// ConnPort: where a TCP session (tcp_server.cc: socket, TLS, compression, command decoding)
// hands its decoded commands: the connection's ClientConn itself, on the session's shard
// (LocalConnPort, direct calls), or, once a TLS or compressed connection subscribed to a topic
// another shard owns, a ClientConn on that shard, through a RemoteConnPort (remote_conn.h). (A
// plain connection's socket moves to that shard instead, to a LocalConnPort there.) Either way
// the ClientConn answers through the session's Transport.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/net/tls_context.h"
#include "common/protocol/command.h"
#include "common/protocol/errors.h"
#include "nsqd/tcp/client_conn.h"

namespace nsq::nsqd {

// Publishes of one connection waiting for the store before it stops reading more commands
// (a producer pipelining faster than the disk writes must not grow nsqd's memory).
inline constexpr size_t kMaxPendingReplies = 1024;
// No message is handed to a connection whose unwritten output is this large (one message may
// take it past). A consumer that stops reading thus holds at most this much of our memory, as
// Go's blocked write holds its 16-64 KiB buffer; the kernel's socket buffer comes on top in
// both. Large enough that a fast consumer's writes stay big.
inline constexpr size_t kMessageOutputLimit = 256 * 1024;

// The session as its port sees it: the Transport the ClientConn answers through, plus frames
// that come already encoded (a remote port's batch of replies and messages). Their bytes are
// what OutputWritten counts.
class PortSession : public Transport {
 public:
  // Queues encoded frames. `urgent`: they hold a response or error frame (or a flush was
  // asked for) and go out promptly; otherwise they are messages, buffered as SendMessage's.
  virtual void SendPortBytes(std::string_view frames, bool urgent) = 0;
};

class ConnPort {
 public:
  virtual ~ConnPort() = default;

  // Handles one decoded command; the port may move it away (the decoder reuses what is left).
  // False when the session must stop reading: a fatal error was sent and the connection closes.
  virtual bool Handle(protocol::Command&& command) = 0;
  // The decoder failed (always fatal).
  virtual void DecodeFailed(const protocol::DecodeFailure& failure) = 0;
  // The session has handled a chunk of input: what the port gathered may go now.
  virtual void EndOfInput() {}
  // True while decoded commands must wait, unhandled, until the transport's ResumeCommands
  // (an AUTH waiting for the auth server; remotely, any IDENTIFY or AUTH until its answer).
  virtual bool Blocked() const = 0;
  // True while the session should not read more input (replies or commands pile up).
  virtual bool ReadPaused() const = 0;
  // The session wrote `port_bytes` of the output the port gave it, and its output is below
  // its bound again when `drained` is true.
  virtual void OutputWritten(size_t port_bytes, bool drained) = 0;
  // The TLS handshake completed (for /stats).
  virtual void TlsEstablished(const net::TlsSessionInfo& info) {}
  // The client closed its side: nothing more comes. The connection closes once the replies to
  // what it sent are out (a publish handed to another shard may still be waiting for its OK).
  virtual void InputEnded() = 0;
  // The connection is gone: leave the broker. The port must not use the session afterwards
  // except as its own contract says (RemoteConnPort: one last Released call).
  virtual void Detach() = 0;
};

}  // namespace nsq::nsqd
