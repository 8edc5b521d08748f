// nsqd with several shards (--worker-threads): connections spread over every shard, each
// topic owned by one shard (TopicOwner), publishes handed to the owner, a subscriber's
// connection moved to it at SUB. The rest of the suite runs under NSQD_WORKER_THREADS=4 too
// (scripts/test.sh); this checks what only many connections and topics on many shards at once
// can show.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/protocol/command.h"
#include "common/protocol/frame.h"
#include "nsqd/shard/topic_owner.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

constexpr int kShards = 4;
constexpr int kTopics = 8;
constexpr int kChannels = 2;
constexpr int kMessagesPerTopic = 600;
constexpr int kBatch = 50;

TEST_CASE("many topics published from every shard: each channel gets each message once, in order") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});

  // One consumer per channel, subscribed first so that nothing waits in the topics: 16
  // consumer and 8 producer connections, handed out to the 4 shards in turn.
  struct Consumer {
    int topic;
    std::unique_ptr<RawConn> conn;
    int next = 0;  // the sequence number expected next
  };
  std::vector<Consumer> consumers;
  for (int topic = 0; topic < kTopics; ++topic) {
    for (int channel = 0; channel < kChannels; ++channel) {
      consumers.push_back({topic, Subscribe(*nsqd, absl::StrCat("shard_t", topic),
                                            absl::StrCat("ch", channel), /*rdy=*/100)});
    }
  }
  std::vector<std::unique_ptr<RawConn>> producers;
  for (int topic = 0; topic < kTopics; ++topic) producers.push_back(ConnectV2(*nsqd));

  // Every producer sends all its MPUBs before any answer is read, so all shards hand work to
  // shard 0 at once; bodies are "<topic>:<sequence>".
  for (int batch_start = 0; batch_start < kMessagesPerTopic; batch_start += kBatch) {
    for (int topic = 0; topic < kTopics; ++topic) {
      std::vector<std::string> bodies;
      for (int i = batch_start; i < batch_start + kBatch; ++i) {
        bodies.push_back(absl::StrCat(topic, ":", i));
      }
      NSQ_REQUIRE_OK(producers[static_cast<size_t>(topic)]->Mpub(absl::StrCat("shard_t", topic),
                                                                 bodies));
    }
  }
  for (auto& producer : producers) {
    for (int i = 0; i < kMessagesPerTopic / kBatch; ++i) NSQ_REQUIRE_OK(producer->ExpectOk());
  }

  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int done = 0;
  while (done < static_cast<int>(consumers.size()) && std::chrono::steady_clock::now() < deadline) {
    done = 0;
    for (Consumer& consumer : consumers) {
      if (consumer.next == kMessagesPerTopic) {
        ++done;
        continue;
      }
      absl::StatusOr<protocol::Frame> frame = consumer.conn->ReadFrame(10ms);
      if (!frame.ok()) continue;
      if (frame->type == protocol::FrameType::kResponse &&
          frame->data == protocol::kHeartbeat) {
        continue;
      }
      REQUIRE_MESSAGE(frame->type == protocol::FrameType::kMessage, DescribeFrame(*frame));
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame->data);
      NSQ_REQUIRE_OK(message);
      const std::string body(message->body.view());
      // Exactly once and in order: the very next number of this consumer's own topic.
      REQUIRE(body == absl::StrCat(consumer.topic, ":", consumer.next));
      REQUIRE(message->attempts == 1);
      ++consumer.next;
      NSQ_REQUIRE_OK(consumer.conn->Fin(message->id.view()));
    }
  }
  for (const Consumer& consumer : consumers) CHECK(consumer.next == kMessagesPerTopic);

  // Nothing more arrives (no duplicates), and the broker agrees.
  for (Consumer& consumer : consumers) {
    absl::StatusOr<protocol::Frame> extra = consumer.conn->ReadFrame(50ms);
    CHECK_MESSAGE(!(extra.ok() && extra->type == protocol::FrameType::kMessage),
                  "an extra message arrived");
  }
  for (int topic = 0; topic < kTopics; ++topic) {
    for (int channel = 0; channel < kChannels; ++channel) {
      const std::string t = absl::StrCat("shard_t", topic);
      const std::string c = absl::StrCat("ch", channel);
      CHECK(WaitFor([&] { return ChannelStat(*nsqd, t, c, "in_flight_count") == 0; }, 5s));
      CHECK(ChannelStat(*nsqd, t, c, "message_count") == kMessagesPerTopic);
      CHECK(ChannelStat(*nsqd, t, c, "depth") == 0);
    }
  }
}

TEST_CASE("with shards, /stats lists every client with its counters, wherever it is served") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});
  std::vector<std::unique_ptr<RawConn>> consumers;
  for (int i = 0; i < kShards; ++i) {
    consumers.push_back(
        Subscribe(*nsqd, "shard_stats", "ch", 1, absl::StrCat(R"({"client_id":"c)", i, R"("})")));
  }
  // Every RDY 1 in force first, or one consumer could get two of the four (RDY has no reply).
  REQUIRE(WaitFor([&] { return ChannelReadyCount(*nsqd, "shard_stats", "ch") == kShards; }, 5s));
  PublishMany(*nsqd, "shard_stats", {"a", "b", "c", "d"});
  for (auto& consumer : consumers) {
    protocol::Message message = MustReadMessage(*consumer);
    NSQ_REQUIRE_OK(consumer->Fin(message.id.view()));
  }
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "shard_stats", "ch", "in_flight_count") == 0; },
                5s));
  const boost::json::value stats = GetStats(*nsqd, "topic=shard_stats");
  const boost::json::object* channel = FindChannel(stats, "shard_stats", "ch");
  REQUIRE(channel != nullptr);
  const boost::json::array& clients = channel->at("clients").as_array();
  REQUIRE(clients.size() == kShards);
  std::map<std::string, int64_t> finished;
  for (const auto& client : clients) {
    finished[std::string(client.at("client_id").as_string())] =
        client.at("finish_count").as_int64();
  }
  for (int i = 0; i < kShards; ++i) CHECK(finished[absl::StrCat("c", i)] == 1);
}

// A topic name that shard `shard` of kShards owns.
std::string TopicOwnedBy(size_t shard, const std::string& prefix) {
  for (int i = 0;; ++i) {
    std::string name = absl::StrCat(prefix, i);
    if (nsqd::TopicOwner(name, kShards) == shard) return name;
  }
}

TEST_CASE("a PUB and a SUB in one write, each for a topic another shard owns, are answered in "
          "order, and the subscriber then gets its messages") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});
  // Two connections per shard; each connection publishes to a topic of one shard and
  // subscribes to one of the next, so that whatever shard serves it, some publish and some
  // SUB cross shards (the SUB waiting for the publish's OK before its connection moves).
  struct Pipelined {
    std::unique_ptr<RawConn> conn;
    std::string pub_topic;
    std::string sub_topic;
  };
  std::vector<Pipelined> conns;
  for (size_t i = 0; i < 2 * kShards; ++i) {
    Pipelined p{ConnectV2(*nsqd), TopicOwnedBy(i % kShards, absl::StrCat("pipe_pub", i, "_")),
                TopicOwnedBy((i + 1) % kShards, absl::StrCat("pipe_sub", i, "_"))};
    const std::string body = absl::StrCat("published by ", i);
    NSQ_REQUIRE_OK(p.conn->Send(absl::StrCat("PUB ", p.pub_topic, "\n", Be32(body.size()), body,
                                             "SUB ", p.sub_topic, " ch\nRDY 1\n")));
    conns.push_back(std::move(p));
  }
  for (Pipelined& p : conns) {
    NSQ_CHECK_OK(p.conn->ExpectOk());  // the PUB's
    NSQ_CHECK_OK(p.conn->ExpectOk());  // the SUB's
  }
  for (size_t i = 0; i < conns.size(); ++i) {
    CHECK(TopicStat(*nsqd, conns[i].pub_topic, "message_count") == 1);
    REQUIRE(WaitFor([&] { return ChannelReadyCount(*nsqd, conns[i].sub_topic, "ch") == 1; }, 5s));
    Publish(*nsqd, conns[i].sub_topic, absl::StrCat("for ", i));
    protocol::Message message = MustReadMessage(*conns[i].conn);
    CHECK(message.body.view() == absl::StrCat("for ", i));
    NSQ_CHECK_OK(conns[i].conn->Fin(message.id.view()));
  }
}

TEST_CASE("a subscriber goes on where its SUB left off on the topic's shard: plain (the socket "
          "moves) and compressed (relayed)") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});
  for (bool snappy : {false, true}) {
    CAPTURE(snappy);
    // One connection per shard (they are handed out in turn), each subscribing to a topic
    // the next shard owns, so every one of them moves.
    for (size_t i = 0; i < kShards; ++i) {
      CAPTURE(i);
      const std::string topic =
          TopicOwnedBy((i + 1) % kShards, absl::StrCat("moving", snappy ? "_snappy" : "", i, "_"));
      auto conn = ConnectV2(*nsqd);
      if (snappy) {
        NSQ_REQUIRE_OK(conn->Identify(R"({"feature_negotiation":true,"snappy":true})"));
        NSQ_REQUIRE_OK(conn->ReadFrame());  // the negotiation's answer, in clear
        conn->EnableCompression(protocol::NewSnappyCompressor(),
                                protocol::NewSnappyDecompressor());
        NSQ_REQUIRE_OK(conn->ExpectOk());
      }
      // Half a command behind the SUB in the same write: it waits through the move and is
      // completed by the next write, which the connection reads on the new shard.
      NSQ_REQUIRE_OK(conn->Send(absl::StrCat("SUB ", topic, " ch\nRD")));
      NSQ_REQUIRE_OK(conn->ExpectOk());
      NSQ_REQUIRE_OK(conn->Send("Y 2\n"));
      REQUIRE(WaitFor([&] { return ChannelReadyCount(*nsqd, topic, "ch") == 2; }, 5s));
      PublishMany(*nsqd, topic, {"first", "second"});
      protocol::Message first = MustReadMessage(*conn);
      protocol::Message second = MustReadMessage(*conn);
      CHECK(first.body.view() == "first");
      CHECK(second.body.view() == "second");
      NSQ_REQUIRE_OK(conn->Req(first.id.view(), 0));
      NSQ_REQUIRE_OK(conn->Touch(second.id.view()));
      NSQ_REQUIRE_OK(conn->Fin(second.id.view()));
      protocol::Message again = MustReadMessage(*conn);
      CHECK(again.body.view() == "first");
      CHECK(again.attempts == 2);
      NSQ_REQUIRE_OK(conn->Fin(again.id.view()));
      REQUIRE(WaitFor([&] { return ChannelStat(*nsqd, topic, "ch", "in_flight_count") == 0; }, 5s));
      // One client, on the topic's shard, with everything it did counted once.
      const boost::json::value stats = GetStats(*nsqd, absl::StrCat("topic=", topic));
      const boost::json::object* channel = FindChannel(stats, topic, "ch");
      REQUIRE(channel != nullptr);
      const boost::json::array& clients = channel->at("clients").as_array();
      REQUIRE(clients.size() == 1);
      const boost::json::object& client = clients[0].as_object();
      CHECK(client.at("finish_count").as_int64() == 2);
      CHECK(client.at("requeue_count").as_int64() == 1);
      CHECK(client.at("message_count").as_int64() == 3);
      CHECK(client.at("snappy") == snappy);
      NSQ_REQUIRE_OK(conn->Cls());
      NSQ_REQUIRE_OK(conn->ExpectResponse("CLOSE_WAIT"));
    }
  }
}

TEST_CASE("a producer that keeps publishing to a topic another shard owns moves there with its "
          "pipelined commands in order, and can still subscribe elsewhere") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});
  for (size_t i = 0; i < kShards; ++i) {
    CAPTURE(i);
    const std::string topic = TopicOwnedBy((i + 1) % kShards, absl::StrCat("producing", i, "_"));
    const std::string later = TopicOwnedBy((i + 2) % kShards, absl::StrCat("later", i, "_"));
    auto producer = ConnectV2(*nsqd);
    // All in one write: the second PUB moves the connection, the rest follow it there.
    std::string wire;
    for (const std::string body : {"a", "b"}) {
      absl::StrAppend(&wire, "PUB ", topic, "\n", Be32(body.size()), body);
    }
    std::string mpub;
    protocol::EncodeMpub(topic, {"c", "d"}, &mpub);
    absl::StrAppend(&wire, mpub, "PUB ", topic, "\n", Be32(1), "e");
    NSQ_REQUIRE_OK(producer->Send(wire));
    for (int ok = 0; ok < 4; ++ok) NSQ_REQUIRE_OK(producer->ExpectOk());
    // It counted its five publishes once, wherever they were made.
    int counted = 0;
    const boost::json::value stats = GetStats(*nsqd);
    for (const auto& client : stats.at("producers").as_array()) {
      if (!client.as_object().contains("pub_counts")) continue;
      for (const auto& count : client.at("pub_counts").as_array()) {
        if (count.at("topic").as_string() == topic) {
          counted += static_cast<int>(count.at("count").as_int64());
        }
      }
    }
    CHECK(counted == 5);
    auto consumer = Subscribe(*nsqd, topic, "ch", /*rdy=*/5);
    for (const std::string expected : {"a", "b", "c", "d", "e"}) {
      protocol::Message message = MustReadMessage(*consumer);
      CHECK(message.body.view() == expected);
      NSQ_CHECK_OK(consumer->Fin(message.id.view()));
    }
    // The producer subscribes to a topic on yet another shard: it moves again and is served.
    NSQ_REQUIRE_OK(producer->Sub(later, "ch"));
    NSQ_REQUIRE_OK(producer->ExpectOk());
    NSQ_REQUIRE_OK(producer->Rdy(1));
    REQUIRE(WaitFor([&] { return ChannelReadyCount(*nsqd, later, "ch") == 1; }, 5s));
    Publish(*nsqd, later, "then");
    protocol::Message message = MustReadMessage(*producer);
    CHECK(message.body.view() == "then");
    NSQ_CHECK_OK(producer->Fin(message.id.view()));
    CHECK(TopicStat(*nsqd, topic, "message_count") == 5);
  }
}

TEST_CASE("a restart with another number of shards finds every topic, channel, pause flag and "
          "message") {
  auto nsqd = StartNsqd({absl::StrCat("--worker-threads=", kShards)});
  constexpr int kMovedTopics = 12;
  for (int t = 0; t < kMovedTopics; ++t) {
    const std::string topic = absl::StrCat("moved", t);
    for (const std::string& target : {absl::StrCat("/topic/create?topic=", topic),
                                      absl::StrCat("/channel/create?topic=", topic, "&channel=ch")}) {
      absl::StatusOr<HttpResponse> created = HttpPost(nsqd->http_port(), target);
      NSQ_REQUIRE_OK(created);
      REQUIRE(created->status == 200);
    }
    PublishMany(*nsqd, topic, {absl::StrCat(t, ":0"), absl::StrCat(t, ":1"), absl::StrCat(t, ":2")});
  }
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/channel/pause?topic=moved3&channel=ch"));

  for (int shards : {1, 3}) {
    CAPTURE(shards);
    NSQ_REQUIRE_OK(nsqd->Restart({absl::StrCat("--worker-threads=", shards)}));
    const boost::json::value stats = GetStats(*nsqd);
    CHECK(stats.at("topics").as_array().size() == kMovedTopics);
    for (int t = 0; t < kMovedTopics; ++t) {
      const std::string topic = absl::StrCat("moved", t);
      const boost::json::object* channel = FindChannel(stats, topic, "ch");
      REQUIRE(channel != nullptr);
      CHECK(channel->at("depth").as_int64() == 3);
      CHECK(channel->at("paused") == (t == 3));
    }
  }
  // And they are delivered, in order, from wherever the topic now lives.
  for (int t : {0, 5, 11}) {
    auto consumer = Subscribe(*nsqd, absl::StrCat("moved", t), "ch", /*rdy=*/3);
    for (int i = 0; i < 3; ++i) {
      protocol::Message message = MustReadMessage(*consumer);
      CHECK(message.body.view() == absl::StrCat(t, ":", i));
      NSQ_CHECK_OK(consumer->Fin(message.id.view()));
    }
  }
}

}  // namespace
}  // namespace nsq::testutil
