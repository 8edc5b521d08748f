#include "nsq/producer.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/src/address.h"
#include "client/src/conn.h"
#include "client/src/log.h"
#include "client/src/sync_lane.h"
#include "client/src/tls.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/command.h"
#include "common/protocol/names.h"

namespace nsq::client {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One publish as the caller gave it; encoded straight into the producer's pending bytes.
struct Producer::Command {
  enum class Kind { kPub, kMpub, kDpub };
  Kind kind = Kind::kPub;
  std::string_view topic;
  std::string_view body;            // PUB, DPUB
  std::string* owned = nullptr;     // PUB, DPUB: a body the producer may take over
  absl::Span<const std::string> strings;     // MPUB
  // MPUB: `strings` is this vector, whose bodies the producer may take over.
  std::vector<std::string>* owned_bodies = nullptr;
  absl::Span<const std::string_view> views;  // MPUB
  int64_t delay_ms = 0;                      // DPUB

  uint32_t messages() const {
    if (kind != Kind::kMpub) return 1;
    return static_cast<uint32_t>(strings.empty() ? views.size() : strings.size());
  }
  // The command's size on the wire, give or take a few bytes of header.
  uint64_t bytes() const {
    uint64_t total = topic.size() + 32;
    if (kind != Kind::kMpub) return total + (owned != nullptr ? owned->size() : body.size());
    for (const std::string& s : strings) total += 4 + s.size();
    for (std::string_view s : views) total += 4 + s.size();
    return total;
  }
  // Appends the command to `out`, with `pub_body` as the PUB/DPUB body.
  void Encode(std::string_view pub_body, std::string* out) const {
    switch (kind) {
      case Kind::kPub:
        protocol::EncodePub(topic, pub_body, out);
        return;
      case Kind::kDpub:
        protocol::EncodeDpub(topic, delay_ms, pub_body, out);
        return;
      case Kind::kMpub: {
        std::vector<std::string_view> all(views.begin(), views.end());
        if (all.empty()) all.assign(strings.begin(), strings.end());
        protocol::EncodeMpub(topic, all, out);
        return;
      }
    }
  }
};

namespace {

// The size field of a PUB/DPUB encoded with an empty body, set to the real body's size.
void PatchBodySize(std::string* out, size_t size) {
  protocol::StoreBigEndian32(out->data() + out->size() - 4, static_cast<uint32_t>(size));
}

// Appends an MPUB of `bodies` (strings or string_views) to *out: "MPUB topic\n" [body size]
// [count], then [size] [bytes] per message, except that a body of Conn::kOwnedPieceMin bytes or
// more is not copied: `big(i)` is called right after body i's size, the caller makes the body
// a piece of its own (written from where it is), and `big` returns where the bytes after it
// go. The bodies are not touched again after `big`.
template <typename Bodies, typename Big>
void AppendMpubCopyingSmallBodies(std::string_view topic, const Bodies& bodies,
                                  std::string* out, Big big) {
  protocol::EncodeMpub(topic, {}, out);
  uint64_t body_size = 4;
  for (size_t i = 0; i < bodies.size(); ++i) body_size += 4 + std::string_view(bodies[i]).size();
  protocol::StoreBigEndian32(out->data() + out->size() - 8, static_cast<uint32_t>(body_size));
  protocol::StoreBigEndian32(out->data() + out->size() - 4, static_cast<uint32_t>(bodies.size()));
  for (size_t i = 0; i < bodies.size(); ++i) {
    const std::string_view body = bodies[i];
    char size[4];
    protocol::StoreBigEndian32(size, static_cast<uint32_t>(body.size()));
    out->append(size, 4);
    if (body.size() < internal::Conn::kOwnedPieceMin) {
      out->append(body);
    } else {
      out = big(i);
    }
  }
}

}  // namespace

// Everything below the public surface. The io_context is the first member so it is destroyed
// last, after the connection state that refers to it. Fields marked "io" are touched only on
// the io thread; the hand-over from callers (pending bytes and their callbacks, the
// outstanding counts) is guarded by mu_.
//
// Hand-over: callers encode their commands straight into the pending pieces under mu_; one
// posted Drain moves everything pending to the connection (or to the waiting list while there
// is none). Answers are counted on the io thread and given back to the outstanding counts once
// per read (on_read_end), so a busy producer takes mu_ about once per batch on either side.
class Producer::Core : public internal::NodeHealth {
 public:
  Core(std::vector<std::string> addresses, Config config)
      : work_(asio::make_work_guard(io_)), config_(std::move(config)), rng_(std::random_device{}()) {
    init_status_ = config_.Validate();
    if (init_status_.ok() && addresses.empty()) {
      init_status_ = absl::InvalidArgumentError("a Producer needs at least one nsqd address");
    }
    for (std::string& address : addresses) {
      if (init_status_.ok()) init_status_ = internal::ValidateTcpAddress(address);
      nodes_.emplace_back();
      nodes_.back().address = std::move(address);
    }
    tls_context_ = internal::TlsContextFor(config_, &init_status_);
    lane_enabled_ = config_.sync_publish_on_caller_thread && init_status_.ok() &&
                    !config_.tls_v1 && !config_.snappy && !config_.deflate &&
                    config_.auth_secret.empty() && config_.local_addr.empty();
    if (!nodes_.empty()) first_address_ = nodes_.front().address;
    thread_ = std::thread([this] { io_.run(); });
    thread_id_ = thread_.get_id();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  const Config config_;
  absl::Status init_status_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::once_flag join_once_;

  // Any thread.
  void Submit(const Command& command, PublishCallback done);
  // Config::sync_publish_on_caller_thread: the command's outcome from the caller-thread lane,
  // or nothing when the lane cannot take it now (then the usual path must).
  std::optional<absl::Status> PublishOnCallerThread(const Command& command);
  // The same for Ping: a NOP on the lane.
  std::optional<absl::Status> PingOnCallerThread();
  void Ping(PublishCallback done);
  void Stop();
  void CountFailed(uint64_t messages) { failed_.fetch_add(messages, std::memory_order_relaxed); }
  uint64_t Outstanding() const { return outstanding_messages_.load(std::memory_order_relaxed); }
  ProducerStats Stats() const;

 private:
  struct Entry {
    PublishCallback done;
    uint32_t messages = 0;
    uint64_t bytes = 0;
  };
  enum class NodeState { kNew, kUp, kDown };
  struct Node {
    std::string address;
    NodeState state = NodeState::kNew;
    int failures = 0;              // failed dials in a row
    Clock::time_point retry_at{};  // not dialled before this
    absl::Status last_error;
  };

  // Encodes `command` at the end of the pending pieces. mu_ held.
  void AppendLocked(const Command& command);
  // An MPUB whose bodies the caller gave up (Command::owned_bodies).
  void AppendMpubTakingBodiesLocked(const Command& command);
  // The last pending piece, when it still takes appended bytes; else a new one.
  std::string* PendingTailLocked();
  // io thread.
  void Drain();
  void EnsureConnection();
  void Connect(size_t node);
  void OnReady(size_t node);
  void OnFrame(protocol::Frame& frame);
  void OnClosed(size_t node, bool was_ready, const absl::Status& status);
  void Complete(Entry& entry, const absl::Status& status);
  void FailWaiting(const absl::Status& status);
  void ReleaseRoom();
  void BeginStop();
  void MaybeFinishStop();
  milliseconds Backoff(int failures);  // nodes_mu_ held
  absl::Status NoNodeStatus() const;

  // Node health, shared by the I/O thread's connection and the lane: one backoff per nsqd
  // and one log line per change of state, whichever connection sees it.
  bool MayDial(const std::string& address) override;
  void Connected(const std::string& address) override;
  void DialFailed(const std::string& address, const absl::Status& why) override;
  void Lost(const std::string& address, const absl::Status& why) override;
  Node& NodeOf(const std::string& address);
  // nodes_mu_ held.
  void NodeUpLocked(Node& node);
  void NodeDialFailedLocked(Node& node, const absl::Status& why);
  void NodeLostLocked(Node& node, const absl::Status& why);

  // The lane, locked for this caller, and the nsqd it is to use; nothing when the call must
  // take the usual path.
  struct LaneTurn {
    std::unique_lock<std::mutex> lock;
    std::string address;
  };
  std::optional<LaneTurn> TakeLane();
  // After a call on the lane: Stats() learns which nsqd the lane is connected to.
  void NoteLaneAddress(const std::string& before);

  std::shared_ptr<asio::ssl::context> tls_context_;  // with tls_v1; shared by the connections

  // Config::sync_publish_on_caller_thread. lane_mu_ is held by the one caller using the lane
  // (and by Stop() to close it); taken before mu_, never after.
  bool lane_enabled_ = false;
  std::string first_address_;  // where the lane goes while the usual path has no connection
  std::mutex lane_mu_;
  std::unique_ptr<internal::SyncLane> lane_;
  std::string lane_command_;  // scratch for encoding a command, guarded by lane_mu_

  // The hand-over, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable room_;
  bool accepting_ = true;
  int waiters_ = 0;  // callers waiting on room_
  std::deque<std::string> pending_;
  bool pending_tail_open_ = false;  // pending_.back() takes more bytes
  std::vector<Entry> pending_entries_;
  bool drain_posted_ = false;
  uint64_t outstanding_bytes_ = 0;
  std::atomic<uint64_t> outstanding_messages_{0};  // written under mu_
  // Commands accepted and not yet answered, counted down as each answer arrives, before its
  // callback (outstanding_messages_ is given back once per read, after the callbacks): a
  // blocking publish that just returned no longer counts when its caller publishes again.
  std::atomic<uint64_t> unanswered_{0};

  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> failed_{0};
  std::string connected_to_;  // guarded by mu_; the usual path's connection
  std::string lane_connected_to_;  // guarded by mu_

  // The nodes' health (not their addresses, fixed at construction) and rng_ are guarded by
  // nodes_mu_, which is taken last: nothing else is locked while it is held.
  mutable std::mutex nodes_mu_;
  std::vector<Node> nodes_;
  std::mt19937_64 rng_;

  // io thread.
  size_t current_ = 0;  // the node in use or tried next
  std::deque<std::string> waiting_;  // bytes taken from pending_, no connection ready yet
  std::deque<Entry> waiting_entries_;
  std::deque<Entry> sent_;  // written (or queued on the connection), waiting for the reply
  std::vector<PublishCallback> pings_;
  std::shared_ptr<internal::Conn> conn_;
  bool ready_ = false;
  uint64_t generation_ = 0;  // tells callbacks of an old connection apart
  uint64_t freed_messages_ = 0;  // answered since the last ReleaseRoom
  uint64_t freed_bytes_ = 0;
  bool stopping_ = false;
};

std::string* Producer::Core::PendingTailLocked() {
  if (!pending_tail_open_ || pending_.back().size() >= internal::Conn::kWriteChunk) {
    pending_.emplace_back();
    pending_tail_open_ = true;
  }
  return &pending_.back();
}

void Producer::Core::AppendLocked(const Command& command) {
  if (command.owned_bodies != nullptr) {
    AppendMpubTakingBodiesLocked(command);
    return;
  }
  const bool owned = command.owned != nullptr && command.owned->size() >= internal::Conn::kOwnedPieceMin;
  std::string* out = PendingTailLocked();
  const std::string_view body = command.owned != nullptr ? *command.owned : command.body;
  command.Encode(owned ? std::string_view() : body, out);
  if (!owned) return;
  // A big moved-in body is its own piece: the connection writes it from where it is.
  PatchBodySize(out, command.owned->size());
  pending_.push_back(std::move(*command.owned));
  pending_tail_open_ = false;
}

void Producer::Core::AppendMpubTakingBodiesLocked(const Command& command) {
  std::vector<std::string>& bodies = *command.owned_bodies;
  AppendMpubCopyingSmallBodies(command.topic, bodies, PendingTailLocked(), [&](size_t i) {
    // As a moved-in PUB body: a big one is a pending piece of its own.
    pending_.push_back(std::move(bodies[i]));
    pending_tail_open_ = false;
    return PendingTailLocked();
  });
}

void Producer::Core::Submit(const Command& command, PublishCallback done) {
  const uint64_t messages = command.messages();
  const uint64_t bytes = command.bytes();
  const bool on_io_thread = std::this_thread::get_id() == thread_id_;
  absl::Status refused;
  bool post = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (!accepting_) {
        refused = absl::FailedPreconditionError("producer is stopped");
        break;
      }
      const uint64_t outstanding = outstanding_messages_.load(std::memory_order_relaxed);
      const bool fits = outstanding == 0 ||
                        (outstanding + messages <= static_cast<uint64_t>(config_.max_outstanding_messages) &&
                         outstanding_bytes_ + bytes <= static_cast<uint64_t>(config_.max_outstanding_bytes));
      if (fits) break;
      if (!config_.block_when_full || on_io_thread) {
        refused = absl::ResourceExhaustedError(absl::StrFormat(
            "producer has %d messages (%d bytes) outstanding; limits %d messages, %d bytes%s",
            outstanding, outstanding_bytes_, config_.max_outstanding_messages,
            config_.max_outstanding_bytes,
            on_io_thread ? " (a publish from a producer callback cannot wait for room)" : ""));
        break;
      }
      ++waiters_;
      room_.wait(lock);
      --waiters_;
    }
    if (refused.ok()) {
      unanswered_.fetch_add(1, std::memory_order_relaxed);
      outstanding_messages_.store(outstanding_messages_.load(std::memory_order_relaxed) + messages,
                                  std::memory_order_relaxed);
      outstanding_bytes_ += bytes;
      AppendLocked(command);
      pending_entries_.push_back(
          Entry{std::move(done), static_cast<uint32_t>(messages), bytes});
      post = !drain_posted_;
      drain_posted_ = true;
    }
  }
  if (!refused.ok()) {
    failed_ += messages;
    if (done) done(refused);
    return;
  }
  if (post) asio::post(io_, [this] { Drain(); });
}

std::optional<Producer::Core::LaneTurn> Producer::Core::TakeLane() {
  if (!lane_enabled_ || std::this_thread::get_id() == thread_id_) return std::nullopt;
  LaneTurn turn{std::unique_lock<std::mutex>(lane_mu_, std::try_to_lock), {}};
  if (!turn.lock.owns_lock()) return std::nullopt;  // another caller has it
  std::lock_guard<std::mutex> lock(mu_);
  // Stopped: the usual path says so. Async publishes unanswered: this call would overtake
  // them.
  if (!accepting_ || unanswered_.load(std::memory_order_acquire) != 0) return std::nullopt;
  if (lane_ == nullptr) lane_ = std::make_unique<internal::SyncLane>(config_, this);
  // The nsqd the usual path chose (after a failover it is not the first); else the one the
  // lane is on; else the first. A lane that cannot connect sends the call the usual way,
  // which fails over with backoff, and the lane follows it.
  turn.address = !connected_to_.empty()       ? connected_to_
                 : !lane_->address().empty() ? lane_->address()
                                              : first_address_;
  return turn;
}

void Producer::Core::NoteLaneAddress(const std::string& before) {
  if (lane_->address() == before) return;
  std::lock_guard<std::mutex> lock(mu_);
  lane_connected_to_ = lane_->address();
}

std::optional<absl::Status> Producer::Core::PingOnCallerThread() {
  std::optional<LaneTurn> turn = TakeLane();
  if (!turn) return std::nullopt;
  const std::string before = lane_->address();
  const internal::SyncLane::Outcome outcome = lane_->Nop(turn->address);
  NoteLaneAddress(before);
  if (!outcome.sent) return std::nullopt;
  return outcome.status;
}

std::optional<absl::Status> Producer::Core::PublishOnCallerThread(const Command& command) {
  std::optional<LaneTurn> turn = TakeLane();
  if (!turn) return std::nullopt;
  const std::string& address = turn->address;
  const std::string before = lane_->address();
  internal::SyncLane::Outcome outcome;
  if (command.kind == Command::Kind::kMpub) {
    // Small bodies are copied in after their sizes: the kernel copies from one buffer far
    // faster than from hundreds of small pieces (per message 0.06 against 0.09 µs of the
    // bench process's CPU at 200 B). A big one is written from where it is, as on the I/O
    // thread's path. Pieces are (offset, size) in lane_command_, or a body's own bytes.
    struct Piece {
      const char* body;  // null: lane_command_ from `offset`
      size_t offset;
      size_t size;
    };
    std::vector<Piece> pieces;
    size_t copied_from = 0;  // where the current run of copied bytes starts
    lane_command_.clear();
    auto encode = [&](const auto& bodies) {
      AppendMpubCopyingSmallBodies(command.topic, bodies, &lane_command_, [&](size_t i) {
        const std::string_view body = bodies[i];
        pieces.push_back(Piece{nullptr, copied_from, lane_command_.size() - copied_from});
        pieces.push_back(Piece{body.data(), 0, body.size()});
        copied_from = lane_command_.size();
        return &lane_command_;
      });
    };
    if (command.strings.empty()) {
      encode(command.views);
    } else {
      encode(command.strings);
    }
    pieces.push_back(Piece{nullptr, copied_from, lane_command_.size() - copied_from});
    std::vector<iovec> gather;
    gather.reserve(pieces.size());
    for (const Piece& piece : pieces) {
      gather.push_back(iovec{const_cast<char*>(piece.body != nullptr
                                                   ? piece.body
                                                   : lane_command_.data() + piece.offset),
                             piece.size});
    }
    outcome = lane_->RoundTrip(address, gather);
  } else {
    lane_command_.clear();
    command.Encode(command.owned != nullptr ? *command.owned : command.body, &lane_command_);
    outcome = lane_->RoundTrip(address, lane_command_);
  }
  NoteLaneAddress(before);
  if (!outcome.sent) return std::nullopt;
  (outcome.status.ok() ? published_ : failed_)
      .fetch_add(command.messages(), std::memory_order_relaxed);
  return outcome.status;
}

void Producer::Core::Ping(PublishCallback done) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) {
    done(absl::FailedPreconditionError("producer is stopped"));
    return;
  }
  // Posted under mu_, so it runs before a Stop()'s BeginStop.
  asio::post(io_, [this, done = std::move(done)]() mutable {
    if (ready_) {
      // As go-nsq: a NOP on the live connection (nsqd does not answer it); a dead connection
      // fails the write and the next command reconnects.
      std::string nop;
      protocol::EncodeNop(&nop);
      conn_->Send(nop);
      done(absl::OkStatus());
      return;
    }
    pings_.push_back(std::move(done));
    EnsureConnection();
  });
}

ProducerStats Producer::Core::Stats() const {
  ProducerStats stats;
  stats.published = published_.load(std::memory_order_relaxed);
  stats.failed = failed_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  stats.outstanding = outstanding_messages_.load(std::memory_order_relaxed);
  stats.outstanding_bytes = outstanding_bytes_;
  stats.connected_to = connected_to_.empty() ? lane_connected_to_ : connected_to_;
  return stats;
}

void Producer::Core::Drain() {
  std::deque<std::string> pieces;
  std::vector<Entry> entries;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pieces.swap(pending_);
    entries.swap(pending_entries_);
    pending_tail_open_ = false;
    drain_posted_ = false;
  }
  if (ready_) {
    for (std::string& piece : pieces) conn_->SendOwned(std::move(piece));
    for (Entry& entry : entries) sent_.push_back(std::move(entry));
  } else {
    for (std::string& piece : pieces) waiting_.push_back(std::move(piece));
    for (Entry& entry : entries) waiting_entries_.push_back(std::move(entry));
    EnsureConnection();
  }
  MaybeFinishStop();
}

milliseconds Producer::Core::Backoff(int failures) {
  const int shift = std::clamp(failures - 1, 0, 30);
  const milliseconds full = std::min(config_.reconnect_min_backoff * (int64_t{1} << shift),
                                     config_.reconnect_max_backoff);
  // Jitter in [0.5, 1]: producers that lost the same nsqd do not come back in step.
  std::uniform_real_distribution<double> factor(0.5, 1.0);
  return std::max(milliseconds(1),
                  std::chrono::duration_cast<milliseconds>(full * factor(rng_)));
}

Producer::Core::Node& Producer::Core::NodeOf(const std::string& address) {
  for (Node& node : nodes_) {
    if (node.address == address) return node;
  }
  return nodes_.front();  // the lane only dials the producer's own addresses
}

void Producer::Core::NodeUpLocked(Node& node) {
  if (node.state == NodeState::kDown) {
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) nsqd is reachable again: producer connected",
               node.address);
  } else if (node.state == NodeState::kNew) {
    CLIENT_LOG(config_, LogLevel::kDebug, "(%s) producer connected", node.address);
  }
  node.state = NodeState::kUp;
  node.failures = 0;
  node.last_error = absl::OkStatus();
}

void Producer::Core::NodeDialFailedLocked(Node& node, const absl::Status& why) {
  ++node.failures;
  node.last_error = why;
  const milliseconds wait = Backoff(node.failures);
  node.retry_at = Clock::now() + wait;
  if (node.state != NodeState::kDown) {
    CLIENT_LOG(config_, LogLevel::kWarning,
               "(%s) nsqd unreachable: %s; retrying with backoff (next attempt in %dms)",
               node.address, why.ToString(), wait.count());
  } else {
    CLIENT_LOG(config_, LogLevel::kDebug, "(%s) nsqd still unreachable (%d failures): %s",
               node.address, node.failures, why.ToString());
  }
  node.state = NodeState::kDown;
}

void Producer::Core::NodeLostLocked(Node& node, const absl::Status& why) {
  // The other connection to this nsqd may have seen it first: one line per change of state.
  if (node.state == NodeState::kUp) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) producer connection lost: %s", node.address,
               why.ToString());
  }
  node.state = NodeState::kDown;
  node.last_error = why;
  // It was up: redial at once (an nsqd restart costs one failed publish, not a backoff).
  node.retry_at = Clock::now();
}

bool Producer::Core::MayDial(const std::string& address) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  return NodeOf(address).retry_at <= Clock::now();
}

void Producer::Core::Connected(const std::string& address) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  NodeUpLocked(NodeOf(address));
}

void Producer::Core::DialFailed(const std::string& address, const absl::Status& why) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  NodeDialFailedLocked(NodeOf(address), why);
}

void Producer::Core::Lost(const std::string& address, const absl::Status& why) {
  std::lock_guard<std::mutex> lock(nodes_mu_);
  NodeLostLocked(NodeOf(address), why);
}

absl::Status Producer::Core::NoNodeStatus() const {
  const Clock::time_point now = Clock::now();
  std::string why;
  bool denied = false;
  std::lock_guard<std::mutex> lock(nodes_mu_);
  for (const Node& node : nodes_) {
    const auto wait = std::chrono::duration_cast<milliseconds>(node.retry_at - now);
    absl::StrAppend(&why, why.empty() ? "" : "; ", node.address, ": ",
                    node.last_error.ok() ? std::string("down") : node.last_error.ToString(),
                    " (next attempt in ", std::max<int64_t>(wait.count(), 0), "ms)");
    denied |= absl::IsPermissionDenied(node.last_error);
  }
  // nsqd refusing our AUTH stays PermissionDenied: retrying will not help.
  return absl::Status(denied ? absl::StatusCode::kPermissionDenied : absl::StatusCode::kUnavailable,
                      absl::StrCat("cannot connect to nsqd: ", why));
}

void Producer::Core::EnsureConnection() {
  if (conn_ != nullptr) return;
  if (waiting_entries_.empty() && pings_.empty()) return;
  const Clock::time_point now = Clock::now();
  size_t next = nodes_.size();
  {
    std::lock_guard<std::mutex> lock(nodes_mu_);
    for (size_t k = 0; k < nodes_.size() && next == nodes_.size(); ++k) {
      const size_t index = (current_ + k) % nodes_.size();
      if (nodes_[index].retry_at <= now) next = index;
    }
  }
  if (next < nodes_.size()) {
    Connect(next);
    return;
  }
  // Every nsqd is backing off: fail now rather than dial again (or make callers wait).
  FailWaiting(NoNodeStatus());
}

void Producer::Core::Connect(size_t node) {
  current_ = node;
  const uint64_t generation = ++generation_;
  internal::Conn::Callbacks callbacks;
  callbacks.on_ready = [this, generation, node](const protocol::IdentifyResponse&) {
    if (generation == generation_) OnReady(node);
  };
  callbacks.on_frame = [this, generation](protocol::Frame& frame) {
    if (generation == generation_) OnFrame(frame);
  };
  callbacks.on_read_end = [this] { ReleaseRoom(); };
  callbacks.on_closed = [this, generation, node](const absl::Status& status) {
    if (generation == generation_) OnClosed(node, ready_, status);
  };
  CLIENT_LOG(config_, LogLevel::kDebug, "(%s) producer connecting", nodes_[node].address);
  conn_ = std::make_shared<internal::Conn>(io_.get_executor(), nodes_[node].address, config_,
                                           tls_context_, std::move(callbacks));
  conn_->Start();
}

void Producer::Core::OnReady(size_t index) {
  ready_ = true;
  {
    std::lock_guard<std::mutex> lock(nodes_mu_);
    NodeUpLocked(nodes_[index]);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    connected_to_ = nodes_[index].address;
  }
  for (std::string& piece : waiting_) conn_->SendOwned(std::move(piece));
  waiting_.clear();
  for (Entry& entry : waiting_entries_) sent_.push_back(std::move(entry));
  waiting_entries_.clear();
  std::vector<PublishCallback> pings;
  pings.swap(pings_);
  for (PublishCallback& done : pings) done(absl::OkStatus());
  MaybeFinishStop();
}

void Producer::Core::Complete(Entry& entry, const absl::Status& status) {
  if (status.ok()) {
    published_.fetch_add(entry.messages, std::memory_order_relaxed);
  } else {
    failed_.fetch_add(entry.messages, std::memory_order_relaxed);
  }
  freed_messages_ += entry.messages;
  freed_bytes_ += entry.bytes;
  unanswered_.fetch_sub(1, std::memory_order_release);
  if (entry.done) entry.done(status);
}

void Producer::Core::OnFrame(protocol::Frame& frame) {
  if (frame.type == protocol::FrameType::kMessage) return;  // a producer never subscribes
  if (sent_.empty()) {
    CLIENT_LOG(config_, LogLevel::kWarning, "(%s) unexpected frame from nsqd: %s",
               nodes_[current_].address, frame.data);
    return;
  }
  Entry entry = std::move(sent_.front());
  sent_.pop_front();
  if (frame.type != protocol::FrameType::kError) {
    Complete(entry, absl::OkStatus());
    MaybeFinishStop();
    return;
  }
  CLIENT_LOG(config_, LogLevel::kWarning, "(%s) nsqd refused a command: %s",
             nodes_[current_].address, frame.data);
  const absl::Status error = internal::StatusFromErrorFrame(frame.data);
  Complete(entry, error);
  if (!internal::IsNonFatalError(frame.data)) {
    // nsqd closes the connection after a fatal error; let the next command open a new one at
    // once instead of meeting the old one's end. Not the node's fault: no backoff.
    conn_->Close(error);
    OnClosed(current_, /*was_ready=*/false, absl::CancelledError("closed after an error reply"));
    return;
  }
  MaybeFinishStop();
}

void Producer::Core::OnClosed(size_t index, bool was_ready, const absl::Status& status) {
  const std::string& address = nodes_[index].address;
  const bool error_reply = absl::IsCancelled(status);
  ready_ = false;
  conn_.reset();
  ++generation_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connected_to_.clear();
  }
  if (was_ready) {
    std::lock_guard<std::mutex> lock(nodes_mu_);
    if (!status.ok() && !stopping_) {
      NodeLostLocked(nodes_[index], status);
    } else {
      nodes_[index].retry_at = Clock::now();
    }
  } else if (!error_reply && !status.ok()) {
    {
      std::lock_guard<std::mutex> lock(nodes_mu_);
      NodeDialFailedLocked(nodes_[index], status);
    }
    // The next address, if any, gets the waiting publishes.
    current_ = (index + 1) % nodes_.size();
  }
  // Whatever was written may or may not have been published.
  std::deque<Entry> sent;
  sent.swap(sent_);
  const std::string why = status.ok() ? std::string("closed") : status.ToString();
  for (Entry& entry : sent) {
    Complete(entry, absl::UnavailableError(absl::StrCat("connection to nsqd ", address,
                                                        " lost before its reply: ", why)));
  }
  EnsureConnection();
  ReleaseRoom();
  MaybeFinishStop();
}

void Producer::Core::FailWaiting(const absl::Status& status) {
  std::deque<Entry> entries;
  entries.swap(waiting_entries_);
  waiting_.clear();
  for (Entry& entry : entries) Complete(entry, status);
  std::vector<PublishCallback> pings;
  pings.swap(pings_);
  for (PublishCallback& done : pings) done(status);
  ReleaseRoom();
}

void Producer::Core::ReleaseRoom() {
  if (freed_messages_ == 0 && freed_bytes_ == 0) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    outstanding_messages_.store(outstanding_messages_.load(std::memory_order_relaxed) - freed_messages_,
                                std::memory_order_relaxed);
    outstanding_bytes_ -= freed_bytes_;
    wake = waiters_ > 0;
  }
  freed_messages_ = 0;
  freed_bytes_ = 0;
  if (wake) room_.notify_all();
}

void Producer::Core::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (accepting_) {
      accepting_ = false;
      asio::post(io_, [this] { BeginStop(); });
    }
  }
  room_.notify_all();  // callers waiting for room give up
  if (std::this_thread::get_id() == thread_id_) return;  // from a callback
  std::call_once(join_once_, [this] { thread_.join(); });
  // A publish on the lane, begun before accepting_ turned false, finishes first.
  std::lock_guard<std::mutex> lane_lock(lane_mu_);
  lane_.reset();
  std::lock_guard<std::mutex> lock(mu_);
  lane_connected_to_.clear();
}

void Producer::Core::BeginStop() {
  stopping_ = true;
  MaybeFinishStop();
}

void Producer::Core::MaybeFinishStop() {
  if (!stopping_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (drain_posted_) return;  // Drain comes back here
  }
  if (!waiting_entries_.empty() || !sent_.empty() || !pings_.empty()) return;
  ReleaseRoom();
  if (conn_ != nullptr) {
    if (ready_) {
      conn_->CloseAfterFlush();  // OnClosed comes back here
    } else {
      conn_->Close(absl::CancelledError("producer stopped"));
    }
    return;
  }
  io_.stop();
}

// ---------------------------------------------------------------- Producer

Producer::Producer(std::string nsqd_tcp_address, Config config)
    : Producer(std::vector<std::string>{std::move(nsqd_tcp_address)}, std::move(config)) {}

Producer::Producer(std::vector<std::string> nsqd_tcp_addresses, Config config)
    : core_(std::make_shared<Core>(std::move(nsqd_tcp_addresses), std::move(config))) {}

Producer::~Producer() {
  if (core_ != nullptr) Stop();
}

Producer::Producer(Producer&& other) noexcept = default;

Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    if (core_ != nullptr) Stop();
    core_ = std::move(other.core_);
  }
  return *this;
}

absl::Status Producer::status() const {
  if (core_ == nullptr) return absl::FailedPreconditionError("moved-from Producer");
  return core_->init_status_;
}

absl::Status Producer::Refusal(const Command& command) const {
  if (absl::Status s = status(); !s.ok()) return s;
  if (!protocol::IsValidTopicName(command.topic)) {
    // nsqd would read "PUB a b" as a publish to "a": refuse before anything is sent.
    return absl::InvalidArgumentError(
        absl::StrCat("topic name ", protocol::QuoteName(command.topic),
                     " is not valid (1-64 characters of [.a-zA-Z0-9_-], optional #ephemeral)"));
  }
  if (command.kind == Command::Kind::kDpub && command.delay_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("deferred publish delay %dms is negative", command.delay_ms));
  }
  return absl::OkStatus();
}

void Producer::Submit(Command command, PublishCallback done) {
  if (!done) done = [](absl::Status) {};
  if (absl::Status s = status(); !s.ok()) {
    done(s);
    return;
  }
  const absl::Status invalid = Refusal(command);
  if (!invalid.ok()) {
    core_->CountFailed(command.messages());
    done(invalid);
    return;
  }
  core_->Submit(command, std::move(done));
}

absl::Status Producer::Wait(const std::function<void(PublishCallback)>& start) {
  if (core_ != nullptr && std::this_thread::get_id() == core_->thread_id_) {
    return absl::FailedPreconditionError(
        "a blocking producer call cannot be made from a producer callback");
  }
  // Shared: the callback may still be inside set_value when get() returns here.
  auto promise = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = promise->get_future();
  start([promise](absl::Status status) { promise->set_value(std::move(status)); });
  return result.get();
}

absl::Status Producer::Ping() {
  if (absl::Status s = status(); !s.ok()) return s;
  if (std::optional<absl::Status> done = core_->PingOnCallerThread()) return *done;
  return Wait([this](PublishCallback done) { core_->Ping(std::move(done)); });
}

absl::Status Producer::PublishAndWait(const Command& command) {
  if (core_ != nullptr && Refusal(command).ok()) {
    if (std::optional<absl::Status> done = core_->PublishOnCallerThread(command)) return *done;
  }
  return Wait([&](PublishCallback done) { Submit(command, std::move(done)); });
}

absl::Status Producer::Publish(std::string_view topic, std::string_view body) {
  Command command;
  command.topic = topic;
  command.body = body;
  return PublishAndWait(command);
}

absl::Status Producer::MultiPublish(std::string_view topic, absl::Span<const std::string> bodies) {
  Command command;
  command.kind = Command::Kind::kMpub;
  command.topic = topic;
  command.strings = bodies;
  return PublishAndWait(command);
}

absl::Status Producer::MultiPublish(std::string_view topic,
                                    absl::Span<const std::string_view> bodies) {
  Command command;
  command.kind = Command::Kind::kMpub;
  command.topic = topic;
  command.views = bodies;
  return PublishAndWait(command);
}

absl::Status Producer::MultiPublish(std::string_view topic,
                                    std::initializer_list<std::string_view> bodies) {
  return MultiPublish(topic, absl::Span<const std::string_view>(bodies.begin(), bodies.size()));
}

absl::Status Producer::DeferredPublish(std::string_view topic, std::chrono::milliseconds delay,
                                       std::string_view body) {
  Command command;
  command.kind = Command::Kind::kDpub;
  command.topic = topic;
  command.body = body;
  command.delay_ms = delay.count();
  return PublishAndWait(command);
}

void Producer::PublishAsync(std::string_view topic, std::string_view body, PublishCallback done) {
  Command command;
  command.topic = topic;
  command.body = body;
  Submit(command, std::move(done));
}

void Producer::PublishAsync(std::string_view topic, std::string&& body, PublishCallback done) {
  Command command;
  command.topic = topic;
  command.owned = &body;
  Submit(command, std::move(done));
}

void Producer::PublishAsync(std::string_view topic, const char* body, PublishCallback done) {
  PublishAsync(topic, std::string_view(body), std::move(done));
}

void Producer::MultiPublishAsync(std::string_view topic, absl::Span<const std::string> bodies,
                                 PublishCallback done) {
  Command command;
  command.kind = Command::Kind::kMpub;
  command.topic = topic;
  command.strings = bodies;
  Submit(command, std::move(done));
}

void Producer::MultiPublishAsync(std::string_view topic, std::vector<std::string>&& bodies,
                                 PublishCallback done) {
  Command command;
  command.kind = Command::Kind::kMpub;
  command.topic = topic;
  command.strings = bodies;
  command.owned_bodies = &bodies;
  Submit(command, std::move(done));
}

void Producer::MultiPublishAsync(std::string_view topic, absl::Span<const std::string_view> bodies,
                                 PublishCallback done) {
  Command command;
  command.kind = Command::Kind::kMpub;
  command.topic = topic;
  command.views = bodies;
  Submit(command, std::move(done));
}

void Producer::MultiPublishAsync(std::string_view topic,
                                 std::initializer_list<std::string_view> bodies,
                                 PublishCallback done) {
  MultiPublishAsync(topic, absl::Span<const std::string_view>(bodies.begin(), bodies.size()),
                    std::move(done));
}

void Producer::DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                                    std::string_view body, PublishCallback done) {
  Command command;
  command.kind = Command::Kind::kDpub;
  command.topic = topic;
  command.body = body;
  command.delay_ms = delay.count();
  Submit(command, std::move(done));
}

void Producer::DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                                    std::string&& body, PublishCallback done) {
  Command command;
  command.kind = Command::Kind::kDpub;
  command.topic = topic;
  command.owned = &body;
  command.delay_ms = delay.count();
  Submit(command, std::move(done));
}

void Producer::DeferredPublishAsync(std::string_view topic, std::chrono::milliseconds delay,
                                    const char* body, PublishCallback done) {
  DeferredPublishAsync(topic, delay, std::string_view(body), std::move(done));
}

uint64_t Producer::Outstanding() const { return core_ == nullptr ? 0 : core_->Outstanding(); }

ProducerStats Producer::Stats() const {
  return core_ == nullptr ? ProducerStats() : core_->Stats();
}

void Producer::Stop() {
  if (core_ != nullptr) core_->Stop();
}

}  // namespace nsq::client
