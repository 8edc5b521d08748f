// ShardSet: nsqd's event loops. Shard 0 is the main loop (HTTP, lookupd and statsd live there);
// shards 1 .. N-1 each run a loop on a thread of their own. Every shard owns the topics that
// hash to it (ShardedBrokers) and serves a share of the TCP connections: their sockets, TLS,
// compression, command decoding and frame encoding. Shards share no mutable state: work
// crosses from one to another only as tasks handed over with Post.
//
//   ShardSet shards(&main_io, options.worker_threads);
//   shards.Start();                          // threads for shards 1 .. N-1
//   shards.Post(0, [&] { broker.Publish(...); });   // from any shard's loop
//   main_io.run();                           // shard 0, on the caller's thread
//   shards.Stop();                           // joins once every loop is idle
//
// Post batches: every task one shard posts another during one turn of its loop goes over in a
// single hand-off to the target's loop (one lock and at most one wake-up per turn and pair),
// and tasks run in the order they were posted, per pair of shards.
#pragma once

#include <chrono>
#include <memory>

#include "absl/functional/any_invocable.h"

namespace boost::asio {
class io_context;
}

namespace nsq::nsqd {

class ShardSet {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  // `main` is shard 0's loop, run by the caller; `count` >= 1 shards in all. Each loop polls
  // for `busy_poll` after it last had work before it sleeps in the kernel (RunLoop).
  ShardSet(boost::asio::io_context* main, int count,
           std::chrono::microseconds busy_poll = std::chrono::microseconds(0));
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  int size() const;
  boost::asio::io_context* io(int shard) const;

  // The shard whose loop thread is calling: 0 on the main thread once MarkMainThread ran, -1 on
  // a thread that is not a loop.
  static int Current();
  // Marks the calling thread as shard 0's (the one that runs the main loop).
  static void MarkMainThread();

  // Starts the threads of shards 1 .. N-1.
  void Start();
  // Runs shard 0's loop on the calling thread until it runs out of work (as io_context::run,
  // with the busy poll).
  void RunMain();

  // Runs `io` until it runs out of work. While it has just had work it keeps polling (without
  // blocking) for up to `busy_poll`, so a request or a hand-off from another shard that comes
  // within that window is taken without the kernel's sleep and wake-up (the cost that
  // dominates a request/reply round trip); idle longer than that, it blocks, so an idle nsqd
  // uses no CPU. 0: always block at once.
  static void RunLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll);
  // Lets shards 1 .. N-1 finish once their loops are idle (their connections closed) and
  // joins them. Tasks they posted to shard 0 meanwhile are left on its loop.
  void Stop();

  // Runs `task` on shard `to`'s loop, after everything the calling shard posted there before.
  // Must be called on a shard's loop thread.
  void Post(int to, Task task);
  // Runs `task` on the calling shard at the end of the current turn of its loop, just before
  // this turn's posts are handed over: a place to gather many small results into one Post.
  void Defer(Task task);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nsq::nsqd
