// What the operator sees while jobs move. On a terminal: one line per source (remaining, moved,
// quarantined, rate, ETA), redrawn in place a few times a second, with log lines printed above
// it. Otherwise: a plain log line per source every few seconds. At the end: a summary table.
//
//   Progress progress(redis_endpoint, /*terminal=*/isatty(STDOUT_FILENO));
//   progress.Add(&stats);           // any time, from the main thread
//   progress.Tick();                // from the main loop; polls Redis for the remaining counts
//   progress.Finish();              // final redraw; log lines go to stderr again
//   std::cout << progress.Summary();
//
// Main thread only (the SourceStats it reads are atomics updated by the drain threads).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tools/redis_to_nsq/redis_client.h"
#include "tools/redis_to_nsq/stats.h"

namespace nsq::redis_to_nsq {

class Progress {
 public:
  Progress(RedisEndpoint redis, bool terminal);
  ~Progress();

  void Add(SourceStats* stats);
  // Refreshes the remaining counts and redraws (terminal) or logs (every kLogInterval).
  void Tick();
  void Finish();
  // How often Tick is worth calling.
  std::chrono::milliseconds interval() const;

  // The final table: per source moved, quarantined, republished, left in Redis.
  std::string Summary() const;

 private:
  struct Row {
    SourceStats* stats;
    int64_t last_moved = 0;
    std::chrono::steady_clock::time_point last_time;
    double rate = 0;  // jobs per second, smoothed
  };
  void PollRemaining();
  std::string Line(const Row& row) const;
  void Redraw();

  RedisEndpoint redis_endpoint_;
  std::unique_ptr<RedisClient> redis_;
  const bool terminal_;
  std::vector<Row> rows_;
  size_t drawn_lines_ = 0;
  std::chrono::steady_clock::time_point last_log_;
  // Log lines that arrived since the last redraw (the log sink appends from any thread).
  std::shared_ptr<std::mutex> pending_mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<std::string>> pending_ = std::make_shared<std::vector<std::string>>();
  bool finished_ = false;
};

}  // namespace nsq::redis_to_nsq
