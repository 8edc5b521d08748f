// ClientConn: the protocol V2 state of one TCP connection and the handling of its commands
// (state machine INIT -> SUBSCRIBED -> CLOSING, IDENTIFY settings, RDY window, FIN/REQ/TOUCH).
// It talks to the brokers through the BrokerSet and to the socket only through Transport, so
// the whole command logic runs without Asio. Loop thread only: the loop of its home shard.
//
// A connection starts on its socket's shard. A publish to a topic another shard owns is
// handed to that shard and its reply comes back in command order. A SUB to a topic another
// shard owns moves the connection there (Transport::MoveTo) before it subscribes, so that
// deliveries, FIN, REQ and TOUCH never cross shards; so does a plain producer's second
// publish in a row to such a topic (once per connection: see MovesToPublish).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <string>

#include "common/protocol/command.h"
#include "common/protocol/command_decoder.h"
#include "common/protocol/errors.h"
#include "common/protocol/frame.h"
#include "common/protocol/message.h"
#include "nsqd/auth/authenticator.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/broker/consumer.h"
#include "common/net/tls_context.h"
#include "nsqd/tcp/client_settings.h"

namespace nsq::nsqd {

// What a connection carries to the shard it moves to at SUB: its IDENTIFY settings and
// upgrades, its AUTH answer, who it is and what it published.
struct ClientConnHandover {
  std::string remote_address;
  std::string version;
  ClientSettings settings;
  StreamUpgrades stream;
  std::optional<AuthState> auth_state;
  std::string auth_secret;
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  std::string topology_region;
  std::string topology_zone;
  Locality locality = Locality::kGlobal;
  int64_t connect_ts = 0;
  std::map<std::string, uint64_t> pub_counts;
  net::TlsSessionInfo tls_info;
  bool moved_to_publish = false;  // it has moved once for its publishes (ClientConn::Publish)
};

// The socket side of a connection, implemented by the Asio session.
class Transport {
 public:
  virtual ~Transport() = default;
  // A response (type 0) or error (type 1) frame: written promptly.
  virtual void SendFrame(protocol::FrameType type, std::string_view data) = 0;
  // A message frame: buffered per the connection's output buffer settings.
  virtual void SendMessage(const protocol::Message& message) = 0;
  // Write buffered messages now (the consumer stopped being ready).
  virtual void FlushSoon() = 0;
  // New heartbeat / buffer settings after IDENTIFY.
  virtual void ApplySettings(const ClientSettings& settings) = 0;
  // Close after what is queued has been written (fatal errors, channel deleted, shutdown).
  virtual void CloseAfterFlush() = 0;
  // Close at once, dropping pending output.
  virtual void CloseNow() = 0;
  // Switches the stream after the IDENTIFY reply that is already queued: TLS handshake, OK
  // over TLS; then compression both ways, OK inside it (nsqd's upgrade sequence). No command
  // is read until it is done; a failure closes the connection.
  virtual void StartUpgrades(const StreamUpgrades& upgrades) = 0;
  // The TLS session's details for /stats (empty without TLS).
  virtual net::TlsSessionInfo TlsInfo() const = 0;
  // The connection goes on with a topic shard `shard` owns (a SUB to it, or a producer that
  // keeps publishing to it): this ClientConn has left its broker and handles nothing more (it
  // is blocked()); the connection goes on with one made on `shard` from `handover`, which
  // handles `command` first and then the commands after it.
  virtual void MoveTo(size_t shard, ClientConnHandover handover, protocol::Command command) = 0;
  // True when MoveTo would move the socket itself (a plain connection) rather than relay its
  // commands to the other shard: only then is moving worth it for a producer.
  virtual bool CanMoveSocket() const { return false; }
  // The connection stopped taking commands (ClientConn::blocked(), an AUTH waiting for the
  // auth server) and takes them again now: decode what is buffered, then read on.
  virtual void ResumeCommands() = 0;
  // True while the output not yet written to the socket is at its bound: the connection takes
  // no more messages until the transport calls ClientConn::OutputDrained. A consumer that
  // stops reading thus stops receiving, instead of every redelivery piling up in our memory.
  virtual bool OutputBacklogged() const = 0;
};

class ClientConn final : public Consumer, public ClientConnection {
 public:
  enum State { kInit = 0, kSubscribed = 3, kClosing = 4 };

  // A new connection on the calling shard. `auth` asks the auth servers
  // (--auth-http-address) from this shard's loop; null when nsqd has none.
  ClientConn(BrokerSet* brokers, Transport* transport, std::string remote_address,
             std::string version, Authenticator* auth = nullptr);
  // A connection that moved to the calling shard (Transport::MoveTo).
  ClientConn(BrokerSet* brokers, Transport* transport, ClientConnHandover handover,
             Authenticator* auth);
  ~ClientConn() override;

  // Handles one decoded command. Returns false when the connection must close (a fatal error
  // was sent).
  bool Handle(protocol::Command&& command);
  // Reports a decoder error (always fatal) and asks for the close.
  void Fail(const protocol::ClientError& error);
  // The same for the decoder's errors, which may come with the topic of an MPUB refused for its
  // body: nsqd has created that topic by then, so it is created here too. Before a TLS upgrade
  // that --tls-required asks for, the error is that one instead, as nsqd checks it first.
  void DecodeFailed(const protocol::DecodeFailure& failure);
  // The connection is going away: leave the channel (its in-flight messages are requeued)
  // and the broker's client list. Idempotent.
  void Detach();
  // The transport's output fell below its bound again: the channel may deliver once more.
  void OutputDrained();

  const ClientSettings& settings() const { return settings_; }
  // Replies held back behind publishes that wait for the store.
  size_t pending_replies() const { return replies_.size(); }
  // True while no further command may be handled: the auth server's answer decides what the
  // next commands may do, or a command that moves the connection (a SUB, a producer's publish)
  // waits for the replies before it (or has moved it). The transport holds them until
  // ResumeCommands.
  bool blocked() const {
    return auth_pending_ || move_waiting_for_replies_.has_value() || moved_;
  }
  State state() const { return state_; }

  // Consumer
  bool ReadyForMessage() const override;
  int64_t SampleRate() const override { return settings_.sample_rate; }
  int64_t MsgTimeoutNs() const override { return settings_.msg_timeout_ms * 1000000; }
  Locality locality() const override { return locality_; }
  void DeliverMessage(const protocol::Message& message) override;
  void MessageTimedOut() override;
  void InFlightReset() override { in_flight_count_ = 0; }
  void ChannelClosing() override;
  ClientStats Stats() const override;

  // ClientConnection
  bool IsProducer() const override { return !pub_counts_.empty(); }
  void CloseConnection() override;
  void CloseConnectionNow() override { transport_->CloseNow(); }

 private:
  bool Identify(const protocol::Command& command);
  bool Auth(const protocol::Command& command);
  bool Sub(const protocol::Command& command);
  // Hands this connection over to shard `owner` once no reply waits; `command` (a SUB or a
  // publish for a topic `owner` owns) is handled there first.
  bool MoveToShard(size_t owner, const protocol::Command& command);
  bool Publish(protocol::Command& command);
  // Whether a publish to `topic`, which another shard owns, moves the connection there.
  bool MovesToPublish(const std::string& topic);
  bool Rdy(const protocol::Command& command);
  bool Fin(const protocol::Command& command);
  bool Req(const protocol::Command& command);
  bool Touch(const protocol::Command& command);
  bool Cls(const protocol::Command& command);

  enum class AuthCheck { kAllowed, kRefused, kWaiting };
  // The auth gate of SUB and PUB/MPUB/DPUB (`channel` empty for a publish): refused with a
  // fatal error, or waiting while an expired authorization is asked again (the command runs
  // when the answer comes).
  AuthCheck CheckAuth(std::string_view verb, const std::string& topic, const std::string& channel,
                      const protocol::Command& command);
  void QueryAuth(const std::string& secret);
  void AuthAnswered(absl::StatusOr<AuthState> state);
  void SendUnauthorized(std::string_view verb, const std::string& topic,
                        const std::string& channel);

  bool SendFatal(std::string_view code, std::string text);
  // --tls-required is on and this connection has not upgraded yet.
  bool TlsRequiredFirst() const;
  static std::string TlsRequiredText(std::string_view command);
  void SendOk();
  // Every response and error frame goes through here. While a publish waits for the store,
  // later replies queue behind it: a client matches replies to commands by order.
  void Reply(protocol::FrameType type, std::string_view data, bool close_after);
  // The store answered the publish holding `ticket`.
  void PublishDone(uint64_t ticket, const std::string& topic, size_t count,
                   std::string_view verb, std::string_view failed_code,
                   const absl::Status& status);
  // Sends the replies at the front of the queue that are ready.
  void SendReadyReplies();
  // Checks the state and the message id shared by FIN, REQ and TOUCH.
  bool CheckMessageCommand(const protocol::Command& command, size_t min_params,
                           protocol::MessageId* id);

  BrokerSet* brokers_;
  size_t home_;     // the shard this ClientConn lives on
  Broker* broker_;  // that shard's broker
  Transport* transport_;
  std::string remote_address_;
  std::string version_;
  State state_ = kInit;
  ClientSettings settings_;
  // TLS and compression negotiated in IDENTIFY (the transport carries them out at once).
  StreamUpgrades stream_;
  Authenticator* auth_;
  std::optional<AuthState> auth_state_;  // the last answer of the auth server
  std::string auth_secret_;              // asked again when the answer expires
  bool auth_pending_ = false;
  // A SUB/PUB that found its authorization expired, run once the auth server answered again.
  struct DeferredCommand {
    protocol::Command command;
    std::string verb;
    std::string topic;
    std::string channel;
  };
  std::optional<DeferredCommand> deferred_;
  std::string client_id_;
  std::string hostname_;
  std::string user_agent_;
  // What the client said about its placement in IDENTIFY (reported in /stats).
  std::string topology_region_;
  std::string topology_zone_;
  Locality locality_ = Locality::kGlobal;
  Channel* channel_ = nullptr;
  int64_t ready_count_ = 0;
  int64_t in_flight_count_ = 0;
  uint64_t message_count_ = 0;
  uint64_t finish_count_ = 0;
  uint64_t requeue_count_ = 0;
  int64_t connect_ts_ = 0;
  std::map<std::string, uint64_t> pub_counts_;
  bool detached_ = false;
  // A fatal error was sent: nothing more is handled or sent.
  bool failed_ = false;
  // A fatal error waits behind a publish: nothing more is handled.
  bool fatal_queued_ = false;
  // Shutdown asked to close while publishes waited for the store: close once they are answered.
  bool close_when_replied_ = false;
  // A command that moves the connection waits for the replies queued before it.
  std::optional<protocol::Command> move_waiting_for_replies_;
  // Handed over to another shard: nothing more is handled here.
  bool moved_ = false;
  // The topic of the last publish that went to another shard, and whether the connection has
  // moved for its publishes already (it does so once).
  std::string last_remote_publish_topic_;
  bool moved_to_publish_ = false;

  struct QueuedReply {
    uint64_t ticket;
    bool ready;
    protocol::FrameType type;
    std::string data;
    bool close_after;
  };
  std::deque<QueuedReply> replies_;  // tickets ascending
  uint64_t next_ticket_ = 0;
  // Held by publish callbacks, which may complete after the connection is gone.
  std::shared_ptr<ClientConn*> alive_ = std::make_shared<ClientConn*>(this);
};

}  // namespace nsq::nsqd
