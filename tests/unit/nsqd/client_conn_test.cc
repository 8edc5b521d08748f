// Command handling of one connection, without sockets: a fake transport records the frames.
#include "nsqd/tcp/client_conn.h"

#include <doctest/doctest.h>

#include "common/protocol/frame.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/stored_broker.h"
#include "tests/unit/nsqd/two_shards.h"

namespace nsq::nsqd {
namespace {

using protocol::Command;
using protocol::CommandName;

class FakeTransport final : public Transport {
 public:
  void SendFrame(protocol::FrameType type, std::string_view data) override {
    frames.push_back({type, std::string(data)});
  }
  void SendMessage(const protocol::Message& message) override { messages.push_back(message); }
  void FlushSoon() override { ++flushes; }
  void ApplySettings(const ClientSettings& settings) override { applied = settings; }
  void CloseAfterFlush() override { closing = true; }
  void CloseNow() override { closing = true; }
  bool OutputBacklogged() const override { return backlogged; }
  void StartUpgrades(const StreamUpgrades& requested) override { upgrades.push_back(requested); }
  net::TlsSessionInfo TlsInfo() const override { return {}; }
  void ResumeCommands() override { ++resumes; }
  void MoveTo(size_t shard, ClientConnHandover handover, protocol::Command command) override {
    moves.push_back(shard);
    handed_over = std::move(handover);
    moved_sub = std::move(command);
  }
  bool CanMoveSocket() const override { return can_move_socket; }

  std::string LastFrame() const { return frames.empty() ? "" : frames.back().data; }

  std::vector<protocol::Frame> frames;
  std::vector<protocol::Message> messages;
  ClientSettings applied;
  int flushes = 0;
  bool closing = false;
  bool backlogged = false;
  std::vector<StreamUpgrades> upgrades;
  int resumes = 0;
  std::vector<size_t> moves;  // MoveTo's shards, with the last handover and command
  std::optional<ClientConnHandover> handed_over;
  protocol::Command moved_sub;
  bool can_move_socket = false;  // a TLS or compressed session's answer
};

// An auth server the test answers by hand: each query waits in `pending` until answered.
class FakeAuthenticator final : public Authenticator {
 public:
  void Query(const AuthQuery& query,
             std::function<void(absl::StatusOr<AuthState>)> done) override {
    queries.push_back(query);
    pending.push_back(std::move(done));
  }
  // Answers the oldest query with this JSON (or an error when it does not parse).
  void Answer(std::string_view json) {
    REQUIRE(!pending.empty());
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    done(ParseAuthResponse(json));
  }
  std::vector<AuthQuery> queries;
  std::vector<std::function<void(absl::StatusOr<AuthState>)>> pending;
};

Command Cmd(CommandName name, std::vector<std::string> params = {}, std::string body = "") {
  Command command;
  command.name = name;
  command.params = std::move(params);
  command.body = std::move(body);
  return command;
}

struct Fixture {
  Fixture()
      : broker(env.context), brokers(&broker), conn(&brokers, &transport, "127.0.0.1:5555", "1.3.0") {}
  testing::FakeEnv env;
  Broker broker;
  SingleBroker brokers;
  FakeTransport transport;
  ClientConn conn;
};

TEST_CASE("commands that need a subscription are fatal before SUB") {
  for (auto [name, text] : std::vector<std::pair<CommandName, std::string>>{
           {CommandName::kRdy, "E_INVALID cannot RDY in current state"},
           {CommandName::kFin, "E_INVALID cannot FIN in current state"},
           {CommandName::kReq, "E_INVALID cannot REQ in current state"},
           {CommandName::kTouch, "E_INVALID cannot TOUCH in current state"},
           {CommandName::kCls, "E_INVALID cannot CLS in current state"}}) {
    Fixture f;
    CHECK_FALSE(f.conn.Handle(Cmd(name, {"0123456789abcdef", "0"})));
    CHECK(f.transport.LastFrame() == text);
    CHECK(f.transport.closing);
  }
}

TEST_CASE("SUB answers OK, a second SUB or IDENTIFY is fatal") {
  Fixture f;
  CHECK(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.transport.LastFrame() == "OK");
  CHECK(f.conn.state() == ClientConn::kSubscribed);
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.transport.LastFrame() == "E_INVALID cannot SUB in current state");
  Fixture g;
  REQUIRE(g.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK_FALSE(g.conn.Handle(Cmd(CommandName::kIdentify, {}, "{}")));
  CHECK(g.transport.LastFrame() == "E_INVALID cannot IDENTIFY in current state");
}

TEST_CASE("SUB checks parameters and names with nsqd's texts") {
  Fixture a;
  CHECK_FALSE(a.conn.Handle(Cmd(CommandName::kSub, {"t"})));
  CHECK(a.transport.LastFrame() == "E_INVALID SUB insufficient number of parameters");
  Fixture b;
  CHECK_FALSE(b.conn.Handle(Cmd(CommandName::kSub, {"bad:topic", "c"})));
  CHECK(b.transport.LastFrame() == "E_BAD_TOPIC SUB topic name \"bad:topic\" is not valid");
  Fixture c;
  CHECK_FALSE(c.conn.Handle(Cmd(CommandName::kSub, {"t", "a#b"})));
  CHECK(c.transport.LastFrame() == "E_BAD_CHANNEL SUB channel name \"a#b\" is not valid");
}

TEST_CASE("SUB with heartbeats disabled is refused") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kIdentify, {}, R"({"heartbeat_interval":-1})")));
  CHECK(f.transport.LastFrame() == "OK");
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.transport.LastFrame() == "E_INVALID cannot SUB with heartbeats disabled");
}

TEST_CASE("RDY parses digits only and enforces max-rdy-count") {
  Fixture f;
  f.env.options.max_rdy_count = 50;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.conn.Handle(Cmd(CommandName::kRdy, {"50"})));
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kRdy, {"51"})));
  CHECK(f.transport.LastFrame() == "E_INVALID RDY count 51 out of range 0-50");
  Fixture g;
  REQUIRE(g.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK_FALSE(g.conn.Handle(Cmd(CommandName::kRdy, {"-1"})));
  CHECK(g.transport.LastFrame() == "E_INVALID RDY could not parse count -1");
}

TEST_CASE("a subscribed connection receives messages up to its RDY and FIN frees a slot") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  REQUIRE(f.conn.Handle(Cmd(CommandName::kRdy, {"1"})));
  Topic* topic = f.broker.FindTopic("t");
  REQUIRE(testing::PublishNow(topic, {protocol::Body::Copy("a"), protocol::Body::Copy("b")}).ok());
  REQUIRE(f.transport.messages.size() == 1);
  CHECK(f.transport.flushes == 1);  // the window is full: flush now
  std::string id(f.transport.messages[0].id.view());
  CHECK(f.conn.Handle(Cmd(CommandName::kFin, {id})));
  CHECK(f.transport.messages.size() == 2);
  CHECK(f.conn.Stats().finish_count == 1);
}

TEST_CASE("a connection whose output is backlogged gets no messages, not even redeliveries") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kIdentify, {}, R"({"msg_timeout":1000})")));
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  REQUIRE(f.conn.Handle(Cmd(CommandName::kRdy, {"10"})));
  Topic* topic = f.broker.FindTopic("t");
  REQUIRE(testing::PublishNow(topic, {protocol::Body::Copy("a")}).ok());
  REQUIRE(f.transport.messages.size() == 1);

  // The consumer stops reading: the socket's output reaches its bound.
  f.transport.backlogged = true;
  REQUIRE(testing::PublishNow(topic, {protocol::Body::Copy("b")}).ok());
  CHECK(f.transport.messages.size() == 1);
  // "a" times out again and again; it is not sent once more to the stuck connection.
  for (int i = 0; i < 5; ++i) f.env.timers.Advance(2'000'000'000);
  CHECK(f.transport.messages.size() == 1);
  Channel* channel = topic->FindChannel("c");
  CHECK(channel->Stats(false).timeout_count == 1);
  CHECK(channel->depth() == 2);

  // Its output drains: delivery resumes where it stopped.
  f.transport.backlogged = false;
  f.conn.OutputDrained();
  REQUIRE(f.transport.messages.size() == 3);
  CHECK(f.transport.messages[1].body.view() == "b");
  CHECK(f.transport.messages[2].body.view() == "a");
  CHECK(f.transport.messages[2].attempts == 2);
}

TEST_CASE("FIN of an unknown id is non-fatal; a malformed id is fatal") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.conn.Handle(Cmd(CommandName::kFin, {"0123456789abcdef"})));
  CHECK(f.transport.LastFrame() == "E_FIN_FAILED FIN 0123456789abcdef failed ID not in flight");
  CHECK_FALSE(f.transport.closing);
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kFin, {"short"})));
  CHECK(f.transport.LastFrame() == "E_INVALID invalid message ID");
  CHECK(f.transport.closing);
}

TEST_CASE("REQ needs a parseable timeout and clamps it to max-req-timeout") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  REQUIRE(f.conn.Handle(Cmd(CommandName::kRdy, {"1"})));
  REQUIRE(testing::PublishNow(f.broker.FindTopic("t"), {protocol::Body::Copy("a")}).ok());
  std::string id(f.transport.messages[0].id.view());
  CHECK(f.conn.Handle(Cmd(CommandName::kReq, {id, "99999999999"})));
  Channel* channel = f.broker.FindTopic("t")->FindChannel("c");
  CHECK(channel->deferred_count() == 1);
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kReq, {id, "-1"})));
  CHECK(f.transport.LastFrame() == "E_INVALID REQ could not parse timeout -1");
}

TEST_CASE("CLS answers CLOSE_WAIT and later RDY is ignored") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(f.conn.Handle(Cmd(CommandName::kCls)));
  CHECK(f.transport.LastFrame() == "CLOSE_WAIT");
  const size_t frames = f.transport.frames.size();
  CHECK(f.conn.Handle(Cmd(CommandName::kRdy, {"5"})));
  CHECK(f.transport.frames.size() == frames);
}

TEST_CASE("AUTH without an auth server is E_AUTH_DISABLED") {
  Fixture f;
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kAuth, {}, "secret")));
  CHECK(f.transport.LastFrame() == "E_AUTH_DISABLED AUTH disabled");
}

TEST_CASE("a publish beyond memory answers E_PUB_FAILED / E_MPUB_FAILED and closes") {
  Fixture f;
  f.env.options.mem_queue_size = 1;
  CHECK(f.conn.Handle(Cmd(CommandName::kPub, {"t"}, "x")));
  CHECK(f.transport.LastFrame() == "OK");
  CHECK(f.conn.IsProducer());
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kPub, {"t"}, "x")));
  CHECK(f.transport.LastFrame().starts_with("E_PUB_FAILED PUB failed "));
  Fixture g;
  g.env.options.mem_queue_size = 1;
  Command mpub = Cmd(CommandName::kMpub, {"t"});
  mpub.messages = {protocol::Body::Copy("a"), protocol::Body::Copy("b")};
  CHECK_FALSE(g.conn.Handle(std::move(mpub)));
  CHECK(g.transport.LastFrame().starts_with("E_MPUB_FAILED MPUB failed "));
}

TEST_CASE("IDENTIFY with feature negotiation answers JSON and applies settings") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kIdentify, {},
                            R"({"feature_negotiation":true,"msg_timeout":2000,)"
                            R"("client_id":"me","snappy":true})")));
  auto response = protocol::ParseIdentifyResponse(f.transport.LastFrame());
  REQUIRE(response.ok());
  CHECK(response->msg_timeout == 2000);
  CHECK(response->snappy);
  CHECK_FALSE(response->tls_v1);  // nsqd has no certificate here
  CHECK(f.transport.applied.msg_timeout_ms == 2000);
  CHECK(f.conn.Stats().client_id == "me");
  // The transport switches to snappy right after the reply, and /stats says so.
  REQUIRE(f.transport.upgrades.size() == 1);
  CHECK(f.transport.upgrades[0].snappy);
  CHECK(f.conn.Stats().snappy);
}

TEST_CASE("--tls-required: only IDENTIFY before the TLS upgrade") {
  testing::FakeEnv env;
  env.options.tls_required = "true";
  env.options.tls_cert = "/c.pem";
  env.options.tls_key = "/k.pem";
  Broker broker(env.context);
  SingleBroker brokers(&broker);
  FakeTransport transport;
  ClientConn conn(&brokers, &transport, "127.0.0.1:5555", "1.3.0");
  CHECK_FALSE(conn.Handle(Cmd(CommandName::kNop)));
  CHECK(transport.LastFrame() == "E_INVALID cannot NOP in current state (TLS required)");

  ClientConn upgraded(&brokers, &transport, "127.0.0.1:5556", "1.3.0");
  REQUIRE(upgraded.Handle(
      Cmd(CommandName::kIdentify, {}, R"({"feature_negotiation":true,"tls_v1":true})")));
  REQUIRE(transport.upgrades.size() == 1);
  CHECK(transport.upgrades[0].tls);
  CHECK(upgraded.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  CHECK(transport.LastFrame() == "OK");
}



TEST_CASE("a vanished subscriber's in-flight messages go back to the channel") {
  Fixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kSub, {"t", "c"})));
  REQUIRE(f.conn.Handle(Cmd(CommandName::kRdy, {"5"})));
  REQUIRE(testing::PublishNow(f.broker.FindTopic("t"), {protocol::Body::Copy("a")}).ok());
  Channel* channel = f.broker.FindTopic("t")->FindChannel("c");
  CHECK(channel->in_flight_count() == 1);
  f.conn.Detach();
  CHECK(channel->in_flight_count() == 0);
  CHECK(channel->depth() == 1);
  CHECK(f.broker.client_count() == 0);
}

// A connection over a broker with a store and --mem-queue-size=0: every publish to a durable
// topic waits for the store's writer thread; its completion runs when the test says.
struct StoredFixture {
  StoredFixture()
      : node(dir.path(), /*mem_queue_size=*/0),
        brokers(&node.broker()),
        conn(std::make_unique<ClientConn>(&brokers, &transport, "127.0.0.1:5555", "1.3.0")) {}
  ~StoredFixture() { conn.reset(); }  // before the broker
  // Runs store completions (topology writes come first, in any grouping) until `frames`
  // replies were sent.
  void RunUntilReplies(size_t frames) {
    while (transport.frames.size() < frames) REQUIRE(node.RunNextCompletion());
  }
  testutil::TempDir dir{"client-conn"};
  testing::StoredBroker node;
  SingleBroker brokers;
  FakeTransport transport;
  std::unique_ptr<ClientConn> conn;
};

TEST_CASE("replies keep command order while a publish waits for the store") {
  StoredFixture f;
  CHECK(f.conn->Handle(Cmd(CommandName::kPub, {"stored"}, "a")));
  // An ephemeral topic never touches the store: its OK is ready at once, but must wait.
  CHECK(f.conn->Handle(Cmd(CommandName::kPub, {"fast#ephemeral"}, "b")));
  CHECK(f.transport.frames.empty());
  CHECK(f.conn->pending_replies() == 2);
  f.RunUntilReplies(2);  // the store committed the first publish
  REQUIRE(f.transport.frames.size() == 2);
  CHECK(f.transport.frames[0].data == "OK");
  CHECK(f.transport.frames[1].data == "OK");
  CHECK(f.conn->pending_replies() == 0);
}

TEST_CASE("IDENTIFY asking for an upgrade while a publish waits for the store is refused") {
  // The upgrade must follow its reply at once; queued behind a publish, it could not.
  StoredFixture f;
  CHECK(f.conn->Handle(Cmd(CommandName::kPub, {"stored"}, "a")));
  CHECK_FALSE(
      f.conn->Handle(Cmd(CommandName::kIdentify, {}, R"({"feature_negotiation":true,"snappy":true})")));
  CHECK(f.transport.upgrades.empty());
  f.RunUntilReplies(2);
  CHECK(f.transport.frames[0].data == "OK");
  CHECK(f.transport.frames[1].data ==
        "E_IDENTIFY_FAILED IDENTIFY failed cannot upgrade while publishes wait for their answer");
}

TEST_CASE("a fatal error behind a pending publish waits its turn and stops further commands") {
  StoredFixture f;
  CHECK(f.conn->Handle(Cmd(CommandName::kPub, {"stored"}, "a")));
  CHECK_FALSE(f.conn->Handle(Cmd(CommandName::kRdy, {"1"})));
  CHECK_FALSE(f.conn->Handle(Cmd(CommandName::kPub, {"stored"}, "never")));
  CHECK(f.transport.frames.empty());
  CHECK_FALSE(f.transport.closing);
  f.RunUntilReplies(2);
  REQUIRE(f.transport.frames.size() == 2);
  CHECK(f.transport.frames[0].data == "OK");
  CHECK(f.transport.frames[1].data == "E_INVALID cannot RDY in current state");
  CHECK(f.transport.closing);
  CHECK(f.node.broker().FindTopic("stored")->depth() == 1);  // "never" was not published
}

TEST_CASE("at shutdown a connection with a publish waiting for the store closes once it is answered") {
  StoredFixture f;
  CHECK(f.conn->Handle(Cmd(CommandName::kPub, {"stored"}, "a")));
  f.conn->CloseConnection();
  CHECK_FALSE(f.transport.closing);
  f.RunUntilReplies(1);
  REQUIRE(f.transport.frames.size() == 1);
  CHECK(f.transport.frames[0].data == "OK");
  CHECK(f.transport.closing);
}

constexpr std::string_view kPubSubOrders =
    R"({"ttl":60,"identity":"svc","identity_url":"https://id/svc","authorizations":[)"
    R"({"topic":"^orders$","channels":[".*"],"permissions":["subscribe","publish"]}]})";

struct AuthFixture {
  AuthFixture()
      : broker(env.context), brokers(&broker), conn(&brokers, &transport, "10.1.2.3:5555", "1.3.0", &auth) {}
  testing::FakeEnv env;
  Broker broker;
  SingleBroker brokers;
  FakeTransport transport;
  FakeAuthenticator auth;
  ClientConn conn;
};

TEST_CASE("with auth servers: SUB and PUB before AUTH are E_AUTH_FIRST") {
  for (CommandName name : {CommandName::kSub, CommandName::kPub}) {
    AuthFixture f;
    CHECK_FALSE(f.conn.Handle(Cmd(name, {"orders", "c"}, "x")));
    CHECK(f.transport.LastFrame() ==
          (name == CommandName::kSub ? "E_AUTH_FIRST AUTH required before SUB"
                                     : "E_AUTH_FIRST AUTH required before PUB"));
  }
}

TEST_CASE("AUTH blocks the connection until the auth server answers, then allows what it says") {
  AuthFixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kAuth, {}, "s3cret")));
  CHECK(f.conn.blocked());
  REQUIRE(f.auth.queries.size() == 1);
  CHECK(f.auth.queries[0].secret == "s3cret");
  CHECK(f.auth.queries[0].remote_ip == "10.1.2.3");
  CHECK_FALSE(f.auth.queries[0].tls);
  f.auth.Answer(kPubSubOrders);
  CHECK_FALSE(f.conn.blocked());
  CHECK(f.transport.resumes == 1);
  CHECK(f.transport.LastFrame() ==
        R"({"identity":"svc","identity_url":"https://id/svc","permission_count":1})");
  CHECK(f.conn.Stats().authed);
  CHECK(f.conn.Stats().auth_identity == "svc");
  CHECK(f.conn.Handle(Cmd(CommandName::kPub, {"orders"}, "x")));
  CHECK(f.transport.LastFrame() == "OK");
  CHECK_FALSE(f.conn.Handle(Cmd(CommandName::kPub, {"payments"}, "x")));
  CHECK(f.transport.LastFrame() == R"(E_UNAUTHORIZED AUTH failed for PUB on "payments" "")");
  // AUTH twice is refused.
  AuthFixture g;
  REQUIRE(g.conn.Handle(Cmd(CommandName::kAuth, {}, "s")));
  g.auth.Answer(kPubSubOrders);
  CHECK_FALSE(g.conn.Handle(Cmd(CommandName::kAuth, {}, "s")));
  CHECK(g.transport.LastFrame() == "E_INVALID AUTH already set");
}

TEST_CASE("AUTH failures: a bad answer is E_AUTH_FAILED, no authorizations E_UNAUTHORIZED") {
  AuthFixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kAuth, {}, "s")));
  f.auth.Answer(R"({"ttl":0,"authorizations":[]})");
  CHECK(f.transport.LastFrame() == "E_AUTH_FAILED AUTH failed");
  CHECK(f.transport.closing);
  AuthFixture g;
  REQUIRE(g.conn.Handle(Cmd(CommandName::kAuth, {}, "s")));
  g.auth.Answer(R"({"ttl":60,"authorizations":[]})");
  CHECK(g.transport.LastFrame() == "E_UNAUTHORIZED AUTH no authorizations found");
}

TEST_CASE("an expired authorization is asked again before the next SUB runs") {
  AuthFixture f;
  REQUIRE(f.conn.Handle(Cmd(CommandName::kAuth, {}, "s")));
  f.auth.Answer(kPubSubOrders);
  f.env.clock.Set(f.env.clock.NowNs() + 61'000'000'000);  // past the 60 s ttl
  CHECK(f.conn.Handle(Cmd(CommandName::kSub, {"orders", "billing"})));
  CHECK(f.conn.blocked());
  REQUIRE(f.auth.queries.size() == 2);
  CHECK(f.auth.queries[1].secret == "s");
  f.auth.Answer(kPubSubOrders);
  CHECK(f.transport.LastFrame() == "OK");  // the SUB ran on the fresh answer
  CHECK(f.conn.state() == ClientConn::kSubscribed);
}

TEST_CASE("a publish to a topic another shard owns goes there, and its OK comes back in order") {
  testing::TwoShards shards;
  FakeTransport transport;
  ClientConn conn(&shards, &transport, "127.0.0.1:5555", "1.3.0");
  const std::string elsewhere = testing::TwoShards::TopicOf(1, "far");
  const std::string here = testing::TwoShards::TopicOf(0, "near");
  CHECK(conn.Handle(Cmd(CommandName::kPub, {elsewhere}, "one")));
  CHECK(conn.Handle(Cmd(CommandName::kPub, {here}, "two")));  // answered at once, but second
  CHECK(transport.frames.empty());
  CHECK(shards.broker(1).FindTopic(elsewhere) == nullptr);  // not yet: the task waits
  shards.RunPosted();
  REQUIRE(transport.frames.size() == 2);
  CHECK(transport.frames[0].data == "OK");
  CHECK(transport.frames[1].data == "OK");
  REQUIRE(shards.broker(1).FindTopic(elsewhere) != nullptr);
  CHECK(shards.broker(1).FindTopic(elsewhere)->depth() == 1);
  CHECK(shards.broker(0).FindTopic(elsewhere) == nullptr);
  CHECK(shards.broker(0).FindTopic(here)->depth() == 1);
}

TEST_CASE("SUB to a topic another shard owns hands the connection over, after the replies "
          "queued before it") {
  testing::TwoShards shards;
  FakeTransport transport;
  ClientConn conn(&shards, &transport, "127.0.0.1:5555", "1.3.0");
  REQUIRE(conn.Handle(Cmd(CommandName::kIdentify, {}, R"({"client_id":"mover","hostname":"h"})")));
  const std::string topic = testing::TwoShards::TopicOf(1, "sub");
  REQUIRE(conn.Handle(Cmd(CommandName::kPub, {topic}, "x")));  // its OK waits for shard 1
  CHECK(conn.Handle(Cmd(CommandName::kSub, {topic, "ch"})));
  CHECK(conn.blocked());  // nothing after the SUB is handled here
  CHECK(transport.moves.empty());
  shards.RunPosted();  // the publish's OK comes back, then the SUB moves the connection
  REQUIRE(transport.frames.size() == 2);  // IDENTIFY's and the PUB's
  CHECK(transport.frames[1].data == "OK");
  REQUIRE(transport.moves == std::vector<size_t>{1});
  CHECK(conn.blocked());
  REQUIRE(transport.handed_over.has_value());
  CHECK(transport.handed_over->client_id == "mover");
  CHECK(transport.handed_over->pub_counts.at(topic) == 1);
  CHECK(transport.moved_sub.params == std::vector<std::string>{topic, "ch"});
  // No channel was made on either shard: the ClientConn on shard 1 subscribes.
  CHECK(shards.broker(1).FindTopic(topic)->FindChannel("ch") == nullptr);
  CHECK(shards.broker(0).client_count() == 0);

  // The connection made there from the handover subscribes on the owner's broker.
  FakeTransport there;
  shards.Post(1, [&] {
    ClientConn moved(&shards, &there, std::move(*transport.handed_over), nullptr);
    CHECK(moved.Handle(std::move(transport.moved_sub)));
    CHECK(there.LastFrame() == "OK");
    CHECK(moved.state() == ClientConn::kSubscribed);
    CHECK(moved.Stats().client_id == "mover");
    CHECK(shards.broker(1).FindTopic(topic)->FindChannel("ch")->consumer_count() == 1);
  });
  shards.RunPosted();
}

TEST_CASE("a plain producer that publishes to one topic another shard owns twice in a row moves "
          "there, once") {
  testing::TwoShards shards;
  FakeTransport transport;
  transport.can_move_socket = true;
  ClientConn conn(&shards, &transport, "127.0.0.1:5555", "1.3.0");
  const std::string elsewhere = testing::TwoShards::TopicOf(1, "far");
  CHECK(conn.Handle(Cmd(CommandName::kPub, {elsewhere}, "one")));  // handed over
  CHECK(transport.moves.empty());
  CHECK(conn.Handle(Cmd(CommandName::kPub, {elsewhere}, "two")));  // waits for the first's OK
  CHECK(conn.blocked());
  CHECK(transport.moves.empty());
  shards.RunPosted();
  REQUIRE(transport.frames.size() == 1);
  CHECK(transport.frames[0].data == "OK");
  REQUIRE(transport.moves == std::vector<size_t>{1});
  CHECK(transport.moved_sub.name == CommandName::kPub);
  CHECK(transport.moved_sub.body == "two");
  REQUIRE(transport.handed_over.has_value());
  CHECK(transport.handed_over->moved_to_publish);
  CHECK(transport.handed_over->pub_counts.at(elsewhere) == 1);

  // There it publishes the second message itself, and moves no more for publishing.
  FakeTransport there;
  there.can_move_socket = true;
  shards.Post(1, [&] {
    ClientConn moved(&shards, &there, std::move(*transport.handed_over), nullptr);
    CHECK(moved.Handle(std::move(transport.moved_sub)));
    CHECK(there.LastFrame() == "OK");
    CHECK(shards.broker(1).FindTopic(elsewhere)->depth() == 2);
    const std::string back = testing::TwoShards::TopicOf(0, "back");
    for (int i = 0; i < 3; ++i) CHECK(moved.Handle(Cmd(CommandName::kPub, {back}, "x")));
    CHECK(there.moves.empty());
    CHECK_FALSE(moved.blocked());
  });
  shards.RunPosted();
  CHECK(shards.broker(0).FindTopic(testing::TwoShards::TopicOf(0, "back"))->depth() == 3);
}

TEST_CASE("a producer stays put when it alternates topics, when it has subscribed, or when its "
          "socket cannot move") {
  testing::TwoShards shards;
  const std::string a = testing::TwoShards::TopicOf(1, "a");
  const std::string b = testing::TwoShards::TopicOf(1, "b");
  FakeTransport alternating;
  alternating.can_move_socket = true;
  ClientConn many(&shards, &alternating, "127.0.0.1:5555", "1.3.0");
  for (int i = 0; i < 3; ++i) {
    CHECK(many.Handle(Cmd(CommandName::kPub, {a}, "x")));
    CHECK(many.Handle(Cmd(CommandName::kPub, {b}, "x")));
  }
  FakeTransport relayed;  // TLS or compressed: CanMoveSocket() is false
  ClientConn tls(&shards, &relayed, "127.0.0.1:5556", "1.3.0");
  for (int i = 0; i < 3; ++i) CHECK(tls.Handle(Cmd(CommandName::kPub, {a}, "x")));
  FakeTransport consuming;
  consuming.can_move_socket = true;
  ClientConn subscriber(&shards, &consuming, "127.0.0.1:5557", "1.3.0");
  REQUIRE(subscriber.Handle(Cmd(CommandName::kSub, {testing::TwoShards::TopicOf(0, "c"), "ch"})));
  for (int i = 0; i < 3; ++i) CHECK(subscriber.Handle(Cmd(CommandName::kPub, {a}, "x")));
  shards.RunPosted();
  CHECK(alternating.moves.empty());
  CHECK(relayed.moves.empty());
  CHECK(consuming.moves.empty());
  CHECK(alternating.frames.size() == 6);
  CHECK(relayed.frames.size() == 3);
  CHECK(shards.broker(1).FindTopic(a)->depth() == 9);
  CHECK(shards.broker(1).FindTopic(b)->depth() == 3);
}

}  // namespace
}  // namespace nsq::nsqd
