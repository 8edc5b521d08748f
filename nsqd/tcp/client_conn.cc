#include "nsqd/tcp/client_conn.h"

#include <chrono>
#include <limits>
#include <optional>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/log/logger.h"
#include "common/protocol/frame.h"
#include "common/protocol/identify.h"
#include "common/protocol/names.h"
#include "common/util/json_string.h"

namespace nsq::nsqd {
namespace {

using protocol::ClientError;
using protocol::Command;
using protocol::CommandName;
using protocol::FrameType;


// Where a client that said `zone` / `region` in IDENTIFY is, for the topology-aware experiment.
// Unlike nsqd, an empty zone or region matches nothing (nsqd treats "" == "" as local, which
// makes every client local when nsqd's own zone is unset).
Locality LocalityOf(const std::string& zone, const std::string& region,
                    const NsqdOptions& options) {
  if (!options.TopologyAware()) return Locality::kGlobal;
  if (!zone.empty() && zone == options.topology_zone) return Locality::kZone;
  if (!region.empty() && region == options.topology_region) return Locality::kRegion;
  return Locality::kGlobal;
}

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HostOf(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

ClientConn::ClientConn(BrokerSet* brokers, Transport* transport, std::string remote_address,
                       std::string version, Authenticator* auth)
    : brokers_(brokers),
      home_(brokers->current()),
      broker_(&brokers->local()),
      transport_(transport),
      remote_address_(std::move(remote_address)),
      version_(std::move(version)),
      settings_(ClientSettings::Defaults(broker_->options())),
      auth_(auth),
      client_id_(HostOf(remote_address_)),
      hostname_(client_id_),
      connect_ts_(UnixSeconds()) {
  broker_->RegisterClient(this);
}

ClientConn::ClientConn(BrokerSet* brokers, Transport* transport, ClientConnHandover handover,
                       Authenticator* auth)
    : brokers_(brokers),
      home_(brokers->current()),
      broker_(&brokers->local()),
      transport_(transport),
      remote_address_(std::move(handover.remote_address)),
      version_(std::move(handover.version)),
      settings_(std::move(handover.settings)),
      stream_(handover.stream),
      auth_(auth),
      auth_state_(std::move(handover.auth_state)),
      auth_secret_(std::move(handover.auth_secret)),
      client_id_(std::move(handover.client_id)),
      hostname_(std::move(handover.hostname)),
      user_agent_(std::move(handover.user_agent)),
      topology_region_(std::move(handover.topology_region)),
      topology_zone_(std::move(handover.topology_zone)),
      locality_(handover.locality),
      connect_ts_(handover.connect_ts),
      pub_counts_(std::move(handover.pub_counts)),
      moved_to_publish_(handover.moved_to_publish) {
  broker_->RegisterClient(this);
}

ClientConn::~ClientConn() {
  *alive_ = nullptr;
  Detach();
}

void ClientConn::Detach() {
  if (detached_) return;
  detached_ = true;
  if (channel_ != nullptr) {
    Channel* channel = channel_;
    channel_ = nullptr;
    channel->RemoveConsumer(this);
  }
  broker_->UnregisterClient(this);
}

bool ClientConn::Handle(Command&& command) {
  if (failed_ || fatal_queued_ || moved_) return false;
  if (log::Enabled(log::Level::kDebug)) {
    // nsqd's line: the command and its parameters as Go prints a [][]byte.
    NSQ_LOG_DEBUG("PROTOCOL(V2): [%s] [%s %s]", remote_address_,
                  protocol::CommandNameText(command.name), absl::StrJoin(command.params, " "));
  }
  // --tls-required: nothing but IDENTIFY (which asks for the upgrade) before TLS.
  if (command.name != CommandName::kIdentify && TlsRequiredFirst()) {
    return SendFatal(protocol::kInvalid, TlsRequiredText(protocol::CommandNameText(command.name)));
  }
  switch (command.name) {
    case CommandName::kIdentify:
      return Identify(command);
    case CommandName::kAuth:
      return Auth(command);
    case CommandName::kSub:
      return Sub(command);
    case CommandName::kPub:
    case CommandName::kMpub:
    case CommandName::kDpub:
      return Publish(command);
    case CommandName::kRdy:
      return Rdy(command);
    case CommandName::kFin:
      return Fin(command);
    case CommandName::kReq:
      return Req(command);
    case CommandName::kTouch:
      return Touch(command);
    case CommandName::kCls:
      return Cls(command);
    case CommandName::kNop:
      return true;
  }
  return true;
}

void ClientConn::Fail(const ClientError& error) {
  NSQ_LOG_ERROR("[%s] %s", remote_address_, error.FrameData());
  Reply(FrameType::kError, error.FrameData(), error.fatal);
}

void ClientConn::DecodeFailed(const protocol::DecodeFailure& failure) {
  if (!failure.command.empty() && failure.command != "IDENTIFY" && TlsRequiredFirst()) {
    SendFatal(protocol::kInvalid, TlsRequiredText(failure.command));
    return;
  }
  const std::string& topic = failure.refused_mpub_topic;
  if (!topic.empty() && auth_ == nullptr && protocol::IsValidTopicName(topic)) {
    brokers_->OnOwner(topic, [topic](Broker& broker) {
      if (!broker.closing()) broker.GetOrCreateTopic(topic);
    });
  }
  Fail(failure.error);
}

bool ClientConn::TlsRequiredFirst() const {
  return broker_->options().tls_required != "false" && !stream_.tls;
}

std::string ClientConn::TlsRequiredText(std::string_view command) {
  return absl::StrFormat("cannot %s in current state (TLS required)", command);
}

bool ClientConn::SendFatal(std::string_view code, std::string text) {
  Fail(ClientError::Fatal(code, std::move(text)));
  return false;
}

void ClientConn::SendOk() { Reply(FrameType::kResponse, protocol::kOk, false); }

void ClientConn::Reply(FrameType type, std::string_view data, bool close_after) {
  if (failed_) return;
  if (!replies_.empty()) {
    replies_.push_back({next_ticket_++, true, type, std::string(data), close_after});
    if (close_after) fatal_queued_ = true;  // no further command is handled
    return;
  }
  transport_->SendFrame(type, data);
  if (close_after) {
    failed_ = true;
    transport_->CloseAfterFlush();
  }
}

void ClientConn::SendReadyReplies() {
  while (!replies_.empty() && replies_.front().ready && !failed_) {
    QueuedReply reply = std::move(replies_.front());
    replies_.pop_front();
    transport_->SendFrame(reply.type, reply.data);
    if (reply.close_after) {
      failed_ = true;
      replies_.clear();
      transport_->CloseAfterFlush();
    }
  }
  if (replies_.empty() && close_when_replied_ && !failed_) transport_->CloseAfterFlush();
  if (replies_.empty() && move_waiting_for_replies_ && !failed_) {
    Command command = std::move(*move_waiting_for_replies_);
    move_waiting_for_replies_.reset();
    if (Handle(std::move(command))) transport_->ResumeCommands();
  }
}

void ClientConn::PublishDone(uint64_t ticket, const std::string& topic, size_t count,
                             std::string_view verb, std::string_view failed_code,
                             const absl::Status& status) {
  if (replies_.empty() || ticket < replies_.front().ticket) return;  // dropped by a failure
  QueuedReply& reply = replies_[ticket - replies_.front().ticket];
  reply.ready = true;
  if (status.ok()) {
    pub_counts_[topic] += count;
    reply.type = FrameType::kResponse;
    reply.data = protocol::kOk;
  } else {
    NSQ_LOG_ERROR("[%s] %s to %s failed: %s", remote_address_, verb, topic, status.message());
    reply.type = FrameType::kError;
    reply.data = ClientError::Fatal(failed_code, absl::StrFormat("%s failed %s", verb,
                                                                 status.message()))
                     .FrameData();
    reply.close_after = true;
  }
  SendReadyReplies();
}

bool ClientConn::Identify(const Command& command) {
  if (state_ != kInit) {
    return SendFatal(protocol::kInvalid, "cannot IDENTIFY in current state");
  }
  auto request = protocol::ParseIdentifyRequest(command.body);
  if (!request.ok()) {
    return SendFatal(protocol::kBadBody, "IDENTIFY failed to decode JSON body");
  }
  auto applied = ApplyIdentify(*request, settings_, broker_->options());
  if (auto* error = std::get_if<ClientError>(&applied)) {
    Fail(*error);
    return false;
  }
  settings_ = std::get<ClientSettings>(applied);
  client_id_ = request->client_id;
  hostname_ = request->hostname;
  user_agent_ = request->user_agent;
  topology_region_ = request->topology_region;
  topology_zone_ = request->topology_zone;
  locality_ = LocalityOf(topology_zone_, topology_region_, broker_->options());
  transport_->ApplySettings(settings_);

  if (!request->feature_negotiation) {
    SendOk();
    return true;
  }
  const NsqdOptions& options = broker_->options();
  const bool tls_available = !options.tls_cert.empty() && !options.tls_key.empty();
  auto negotiated = NegotiateUpgrades(*request, settings_, options, tls_available, stream_);
  if (auto* error = std::get_if<ClientError>(&negotiated)) {
    Fail(*error);
    return false;
  }
  const StreamUpgrades upgrades = std::get<StreamUpgrades>(negotiated);
  if (upgrades.any() && !replies_.empty()) {
    // The upgrade must follow the reply at once, and replies wait here behind publishes.
    return SendFatal(protocol::kIdentifyFailed,
                     "IDENTIFY failed cannot upgrade while publishes wait for their answer");
  }
  StreamUpgrades after = stream_;
  after.tls = after.tls || upgrades.tls;
  after.snappy = after.snappy || upgrades.snappy;
  after.deflate = after.deflate || upgrades.deflate;
  protocol::IdentifyResponse response = MakeIdentifyResponse(settings_, options, version_, after);
  Reply(FrameType::kResponse, protocol::EncodeIdentifyResponse(response), false);
  if (upgrades.any()) {
    stream_ = after;
    stream_.deflate_level = upgrades.deflate_level;
    NSQ_LOG_INFO("PROTOCOL(V2): [%s] upgrading connection to%s%s%s", remote_address_,
                 upgrades.tls ? " TLS" : "", upgrades.snappy ? " snappy" : "",
                 upgrades.deflate ? " deflate" : "");
    transport_->StartUpgrades(upgrades);
  }
  return true;
}

bool ClientConn::Auth(const Command& command) {
  if (state_ != kInit) return SendFatal(protocol::kInvalid, "cannot AUTH in current state");
  if (auth_state_ && !auth_state_->authorizations.empty()) {
    return SendFatal(protocol::kInvalid, "AUTH already set");
  }
  if (auth_ == nullptr) return SendFatal(protocol::kAuthDisabled, "AUTH disabled");
  auth_secret_ = command.body;
  QueryAuth(auth_secret_);
  return true;
}

void ClientConn::QueryAuth(const std::string& secret) {
  auth_pending_ = true;
  AuthQuery query;
  query.remote_ip = HostOf(remote_address_);
  query.tls = stream_.tls;
  query.secret = secret;
  if (stream_.tls) query.common_name = transport_->TlsInfo().client_cert_common_name;
  auth_->Query(query, [alive = alive_](absl::StatusOr<AuthState> state) {
    if (*alive != nullptr) (*alive)->AuthAnswered(std::move(state));
  });
}

void ClientConn::AuthAnswered(absl::StatusOr<AuthState> state) {
  auth_pending_ = false;
  std::optional<DeferredCommand> deferred = std::move(deferred_);
  deferred_.reset();
  if (!state.ok()) {
    // The client learns only that it failed: the auth servers' errors are for the log.
    NSQ_LOG_WARN("PROTOCOL(V2): [%s] AUTH failed %s", remote_address_, state.status().message());
    SendFatal(protocol::kAuthFailed, "AUTH failed");
    return;
  }
  auth_state_ = std::move(*state);
  auth_state_->expires_at_ns = broker_->context()->clock->NowNs() + auth_state_->ttl_ns;
  if (deferred) {
    // A SUB/PUB whose authorization had expired: decided on the fresh answer.
    const AuthState::Permission permission =
        deferred->channel.empty() ? AuthState::kPublish : AuthState::kSubscribe;
    if (!auth_state_->Allowed(permission, deferred->topic, deferred->channel)) {
      SendUnauthorized(deferred->verb, deferred->topic, deferred->channel);
      return;
    }
    if (Handle(std::move(deferred->command))) transport_->ResumeCommands();
    return;
  }
  if (auth_state_->authorizations.empty()) {
    SendFatal(protocol::kUnauthorized, "AUTH no authorizations found");
    return;
  }
  NSQ_LOG_INFO("PROTOCOL(V2): [%s] AUTH identity \"%s\" with %d authorizations",
               remote_address_, auth_state_->identity, auth_state_->authorizations.size());
  Reply(FrameType::kResponse,
        absl::StrFormat(R"({"identity":%s,"identity_url":%s,"permission_count":%d})",
                        util::QuoteJsonString(auth_state_->identity),
                        util::QuoteJsonString(auth_state_->identity_url),
                        auth_state_->authorizations.size()),
        false);
  transport_->ResumeCommands();
}

ClientConn::AuthCheck ClientConn::CheckAuth(std::string_view verb, const std::string& topic,
                                            const std::string& channel, const Command& command) {
  if (auth_ == nullptr) return AuthCheck::kAllowed;
  if (!auth_state_ || auth_state_->authorizations.empty()) {
    SendFatal(protocol::kAuthFirst, absl::StrFormat("AUTH required before %s", verb));
    return AuthCheck::kRefused;
  }
  if (auth_state_->Expired(broker_->context()->clock->NowNs())) {
    deferred_ = DeferredCommand{command, std::string(verb), topic, channel};
    QueryAuth(auth_secret_);
    return AuthCheck::kWaiting;
  }
  const AuthState::Permission permission =
      channel.empty() ? AuthState::kPublish : AuthState::kSubscribe;
  if (!auth_state_->Allowed(permission, topic, channel)) {
    SendUnauthorized(verb, topic, channel);
    return AuthCheck::kRefused;
  }
  return AuthCheck::kAllowed;
}

void ClientConn::SendUnauthorized(std::string_view verb, const std::string& topic,
                                  const std::string& channel) {
  SendFatal(protocol::kUnauthorized,
            absl::StrFormat("AUTH failed for %s on %s %s", verb, protocol::QuoteName(topic),
                            protocol::QuoteName(channel)));
}

bool ClientConn::Sub(const Command& command) {
  if (state_ != kInit) return SendFatal(protocol::kInvalid, "cannot SUB in current state");
  if (settings_.heartbeat_interval_ms <= 0) {
    return SendFatal(protocol::kInvalid, "cannot SUB with heartbeats disabled");
  }
  if (command.params.size() < 2) {
    return SendFatal(protocol::kInvalid, "SUB insufficient number of parameters");
  }
  const std::string& topic_name = command.params[0];
  const std::string& channel_name = command.params[1];
  if (!protocol::IsValidTopicName(topic_name)) {
    return SendFatal(protocol::kBadTopic,
                     absl::StrCat("SUB topic name ", protocol::QuoteName(topic_name), " is not valid"));
  }
  if (!protocol::IsValidChannelName(channel_name)) {
    return SendFatal(protocol::kBadChannel,
                     absl::StrCat("SUB channel name ", protocol::QuoteName(channel_name), " is not valid"));
  }
  switch (CheckAuth("SUB", topic_name, channel_name, command)) {
    case AuthCheck::kRefused:
      return false;
    case AuthCheck::kWaiting:
      return true;
    case AuthCheck::kAllowed:
      break;
  }
  if (broker_->closing()) return SendFatal(protocol::kSubFailed, "SUB failed exiting");
  if (const size_t owner = brokers_->OwnerOf(topic_name); owner != home_) {
    return MoveToShard(owner, command);
  }
  Channel* channel = broker_->GetOrCreateTopic(topic_name)->GetOrCreateChannel(channel_name);
  absl::Status added = channel->AddConsumer(this);
  if (!added.ok()) {
    return SendFatal(protocol::kSubFailed, absl::StrFormat("SUB failed %s", added.message()));
  }
  channel_ = channel;
  state_ = kSubscribed;
  SendOk();
  return true;
}

bool ClientConn::MoveToShard(size_t owner, const Command& command) {
  if (!replies_.empty()) {
    // Replies keep command order: the command's comes from the new shard, after these.
    move_waiting_for_replies_ = command;
    return true;
  }
  ClientConnHandover handover;
  handover.remote_address = remote_address_;
  handover.version = version_;
  handover.settings = settings_;
  handover.stream = stream_;
  handover.auth_state = auth_state_;
  handover.auth_secret = auth_secret_;
  handover.client_id = client_id_;
  handover.hostname = hostname_;
  handover.user_agent = user_agent_;
  handover.topology_region = topology_region_;
  handover.topology_zone = topology_zone_;
  handover.locality = locality_;
  handover.connect_ts = connect_ts_;
  handover.pub_counts = pub_counts_;
  handover.tls_info = transport_->TlsInfo();
  handover.moved_to_publish = moved_to_publish_ || command.name != CommandName::kSub;
  moved_ = true;
  Detach();
  transport_->MoveTo(owner, std::move(handover), command);
  return true;
}

bool ClientConn::Publish(Command& command) {
  // The decoder has checked parameters, the topic name and every size.
  const std::string& topic_name = command.params[0];
  switch (CheckAuth(protocol::CommandNameText(command.name), topic_name, "", command)) {
    case AuthCheck::kRefused:
      return false;
    case AuthCheck::kWaiting:
      return true;
    case AuthCheck::kAllowed:
      break;
  }
  const size_t owner = brokers_->OwnerOf(topic_name);
  if (owner != home_ && MovesToPublish(topic_name)) return MoveToShard(owner, command);
  std::vector<protocol::Body> bodies;
  std::string_view verb;
  std::string_view failed_code;
  int64_t defer_ns = 0;
  if (command.name == CommandName::kMpub) {
    verb = "MPUB";
    failed_code = protocol::kMpubFailed;
    bodies = std::move(command.messages);
  } else {
    verb = command.name == CommandName::kPub ? "PUB" : "DPUB";
    failed_code = command.name == CommandName::kPub ? protocol::kPubFailed : protocol::kDpubFailed;
    bodies.push_back(protocol::Body::Copy(command.body));
    defer_ns = command.defer_ms * 1000000;
  }
  // The reply waits for the store when the messages go there; later replies wait behind it.
  const uint64_t ticket = next_ticket_++;
  replies_.push_back({ticket, false, FrameType::kResponse, {}, false});
  const size_t count = bodies.size();
  auto done = [alive = alive_, ticket, topic_name, count, verb, failed_code](absl::Status s) {
    if (*alive != nullptr) (*alive)->PublishDone(ticket, topic_name, count, verb, failed_code, s);
  };
  if (owner != home_) {
    // The owner publishes; its answer comes back here (the reply keeps its place by ticket).
    brokers_->OnOwner(topic_name, [brokers = brokers_, home = home_, topic_name,
                                   bodies = std::move(bodies), defer_ns,
                                   done = std::move(done)](Broker& broker) mutable {
      broker.GetOrCreateTopic(topic_name)
          ->Publish(bodies, defer_ns, [brokers, home, done = std::move(done)](absl::Status s) {
            brokers->Post(home, [done, s] { done(s); });
          });
    });
  } else {
    broker_->GetOrCreateTopic(topic_name)->Publish(bodies, defer_ns, std::move(done));
  }
  return !failed_ && !fatal_queued_;
}

// A producer that publishes to one topic another shard owns twice in a row moves there (once,
// before any SUB, and only when its socket moves with it), so its publishes stop crossing
// shards; one that publishes to many topics stays where it is and hands each publish over.
bool ClientConn::MovesToPublish(const std::string& topic) {
  if (moved_to_publish_ || state_ != kInit || !transport_->CanMoveSocket()) return false;
  if (last_remote_publish_topic_ == topic) return true;
  last_remote_publish_topic_ = topic;
  return false;
}

bool ClientConn::Rdy(const Command& command) {
  if (state_ == kClosing) return true;  // ignored while closing, as nsqd does
  if (state_ != kSubscribed) return SendFatal(protocol::kInvalid, "cannot RDY in current state");
  uint64_t count = 1;
  if (!command.params.empty()) {
    std::optional<uint64_t> parsed = protocol::ParseDecimal(command.params[0]);
    if (!parsed) {
      return SendFatal(protocol::kInvalid,
                       absl::StrCat("RDY could not parse count ", command.params[0]));
    }
    count = *parsed;
  }
  const int64_t max = broker_->options().max_rdy_count;
  if (count > static_cast<uint64_t>(max)) {
    return SendFatal(protocol::kInvalid,
                     absl::StrCat("RDY count ", count, " out of range 0-", max));
  }
  ready_count_ = static_cast<int64_t>(count);
  if (channel_ != nullptr) channel_->ConsumerReady();
  return true;
}

bool ClientConn::CheckMessageCommand(const Command& command, size_t min_params,
                                     protocol::MessageId* id) {
  std::string_view name = protocol::CommandNameText(command.name);
  if (state_ != kSubscribed && state_ != kClosing) {
    return SendFatal(protocol::kInvalid, absl::StrFormat("cannot %s in current state", name));
  }
  if (command.params.size() < min_params) {
    return SendFatal(protocol::kInvalid, absl::StrFormat("%s insufficient number of params", name));
  }
  if (!protocol::MessageId::FromBytes(command.params[0], id)) {
    return SendFatal(protocol::kInvalid, "invalid message ID");
  }
  return true;
}

bool ClientConn::Fin(const Command& command) {
  protocol::MessageId id;
  if (!CheckMessageCommand(command, 1, &id)) return false;
  absl::Status status =
      channel_ ? channel_->Finish(this, id) : absl::FailedPreconditionError("exiting");
  if (!status.ok()) {
    Fail(ClientError::NonFatal(protocol::kFinFailed,
                               absl::StrFormat("FIN %s failed %s", id.view(), status.message())));
    return true;
  }
  --in_flight_count_;
  ++finish_count_;
  channel_->ConsumerReady();
  return true;
}

bool ClientConn::Req(const Command& command) {
  protocol::MessageId id;
  if (!CheckMessageCommand(command, 2, &id)) return false;
  std::optional<uint64_t> delay_ms = protocol::ParseDecimal(command.params[1]);
  if (!delay_ms) {
    return SendFatal(protocol::kInvalid,
                     absl::StrCat("REQ could not parse timeout ", command.params[1]));
  }
  const uint64_t max_ms = absl::ToInt64Milliseconds(broker_->options().max_req_timeout);
  if (*delay_ms > max_ms) {
    NSQ_LOG_INFO("[%s] REQ timeout %d out of range 0-%d; clamped", remote_address_, *delay_ms,
                 max_ms);
    delay_ms = max_ms;
  }
  absl::Status status =
      channel_ ? channel_->Requeue(this, id, static_cast<int64_t>(*delay_ms) * 1000000)
               : absl::FailedPreconditionError("exiting");
  if (!status.ok()) {
    Fail(ClientError::NonFatal(protocol::kReqFailed,
                               absl::StrFormat("REQ %s failed %s", id.view(), status.message())));
    return true;
  }
  --in_flight_count_;
  ++requeue_count_;
  channel_->ConsumerReady();
  return true;
}

bool ClientConn::Touch(const Command& command) {
  protocol::MessageId id;
  if (!CheckMessageCommand(command, 1, &id)) return false;
  absl::Status status =
      channel_ ? channel_->Touch(this, id) : absl::FailedPreconditionError("exiting");
  if (!status.ok()) {
    Fail(ClientError::NonFatal(protocol::kTouchFailed,
                               absl::StrFormat("TOUCH %s failed %s", id.view(), status.message())));
  }
  return true;
}

bool ClientConn::Cls(const Command& command) {
  if (state_ != kSubscribed) return SendFatal(protocol::kInvalid, "cannot CLS in current state");
  ready_count_ = 0;
  state_ = kClosing;
  Reply(FrameType::kResponse, protocol::kCloseWait, false);
  return true;
}

bool ClientConn::ReadyForMessage() const {
  return state_ == kSubscribed && !detached_ && ready_count_ > 0 &&
         in_flight_count_ < ready_count_ && !transport_->OutputBacklogged();
}

void ClientConn::OutputDrained() {
  if (channel_ != nullptr) channel_->ConsumerReady();
}

void ClientConn::DeliverMessage(const protocol::Message& message) {
  ++in_flight_count_;
  ++message_count_;
  transport_->SendMessage(message);
  if (!ReadyForMessage()) transport_->FlushSoon();
}

void ClientConn::MessageTimedOut() {
  if (in_flight_count_ > 0) --in_flight_count_;
}

void ClientConn::ChannelClosing() {
  // The channel is going away right after this call: forget it and close.
  channel_ = nullptr;
  transport_->CloseAfterFlush();
}

void ClientConn::CloseConnection() {
  // Publishes waiting for the store get their answer first (the writer keeps committing while
  // nsqd shuts down), so a producer is not left guessing whether its last messages made it.
  if (!replies_.empty()) {
    close_when_replied_ = true;
    return;
  }
  transport_->CloseAfterFlush();
}

ClientStats ClientConn::Stats() const {
  ClientStats stats;
  stats.client_id = client_id_;
  stats.hostname = hostname_;
  stats.user_agent = user_agent_;
  stats.remote_address = remote_address_;
  stats.state = state_;
  stats.ready_count = ready_count_;
  stats.in_flight_count = in_flight_count_;
  stats.message_count = message_count_;
  stats.finish_count = finish_count_;
  stats.requeue_count = requeue_count_;
  stats.connect_ts = connect_ts_;
  stats.sample_rate = settings_.sample_rate;
  for (const auto& [topic, count] : pub_counts_) stats.pub_counts.push_back({topic, count});
  stats.topology_region = topology_region_;
  stats.topology_zone = topology_zone_;
  if (auth_state_) {
    stats.authed = true;
    stats.auth_identity = auth_state_->identity;
    stats.auth_identity_url = auth_state_->identity_url;
  }
  stats.tls = stream_.tls;
  stats.snappy = stream_.snappy;
  stats.deflate = stream_.deflate;
  if (stream_.tls) stats.tls_info = transport_->TlsInfo();
  return stats;
}

}  // namespace nsq::nsqd
