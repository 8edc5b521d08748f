#include "tools/redis_to_nsq/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "common/log/logger.h"
#include "tools/redis_to_nsq/redis_session.h"

namespace nsq::redis_to_nsq {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTerminalInterval = std::chrono::milliseconds(250);
constexpr auto kLogInterval = std::chrono::seconds(5);

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

std::string SourceName(const Source& source) {
  switch (source.kind) {
    case SourceKind::kQueue:
      return source.key;
    case SourceKind::kInProgress:
      return source.key + " (in progress)";
    default:
      return source.key;
  }
}

std::string Eta(int64_t remaining, double rate) {
  if (remaining <= 0) return "-";
  if (rate < 0.5) return "?";
  const int64_t seconds = static_cast<int64_t>(static_cast<double>(remaining) / rate + 0.5);
  if (seconds < 60) return absl::StrFormat("%ds", seconds);
  if (seconds < 3600) return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  return absl::StrFormat("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
}

}  // namespace

Progress::Progress(RedisEndpoint redis, bool terminal)
    : redis_endpoint_(std::move(redis)), terminal_(terminal), last_log_(Clock::now()) {
  if (terminal_) {
    // Log lines would tear the live block apart: they are printed above it at the next redraw.
    log::SetSink([mu = pending_mu_, pending = pending_](std::string_view line) {
      std::lock_guard<std::mutex> lock(*mu);
      pending->emplace_back(line);
    });
  }
}

Progress::~Progress() { Finish(); }

void Progress::Add(SourceStats* stats) { rows_.push_back(Row{stats, stats->moved, Clock::now()}); }

std::chrono::milliseconds Progress::interval() const {
  return terminal_ ? kTerminalInterval : std::chrono::milliseconds(1000);
}

void Progress::PollRemaining() {
  if (redis_ == nullptr || redis_->broken()) {
    redis_.reset();
    auto connected = RedisClient::Connect(redis_endpoint_, absl::Seconds(1), absl::Seconds(2));
    if (!connected.ok()) return;  // the drain threads report the outage
    redis_ = std::move(*connected);
  }
  std::vector<std::vector<std::string>> commands;
  for (const Row& row : rows_) {
    commands.push_back({row.stats->source.is_list() ? "LLEN" : "ZCARD", row.stats->source.key});
  }
  if (commands.empty()) return;
  absl::StatusOr<std::vector<RedisReply>> counts = redis_->Pipeline(commands);
  if (!counts.ok()) return;
  for (size_t i = 0; i < rows_.size() && i < counts->size(); ++i) {
    rows_[i].stats->remaining = (*counts)[i].integer;
  }
}

std::string Progress::Line(const Row& row) const {
  const SourceStats& s = *row.stats;
  const std::string topic = s.topic.empty() ? "(per job)" : s.topic;
  return absl::StrFormat("%-36s -> %-20s remaining %9d  moved %9d  quarantined %5d  %8.0f/s  ETA %s",
                         SourceName(s.source), topic, std::max<int64_t>(s.remaining, 0),
                         s.moved.load(), s.quarantined.load(), row.rate,
                         s.finished && s.remaining <= 0 ? "done" : Eta(s.remaining, row.rate));
}

void Progress::Tick() {
  PollRemaining();
  const Clock::time_point now = Clock::now();
  for (Row& row : rows_) {
    const double elapsed = std::chrono::duration<double>(now - row.last_time).count();
    const int64_t moved = row.stats->moved;
    const double instant = static_cast<double>(moved - row.last_moved) / elapsed;
    if (elapsed < 0.9) {
      // Until the first full sample, a first estimate rather than "0/s" while jobs move.
      if (row.rate == 0 && elapsed >= 0.2) row.rate = instant;
      continue;
    }
    row.rate = row.rate == 0 ? instant : 0.5 * row.rate + 0.5 * instant;
    row.last_moved = moved;
    row.last_time = now;
  }
  if (terminal_) {
    Redraw();
  } else if (now - last_log_ >= kLogInterval) {
    last_log_ = now;
    for (const Row& row : rows_) NSQ_LOG_INFO("progress: %s", Line(row));
  }
}

void Progress::Redraw() {
  std::string out;
  // Back to the top of the block, then over it: log lines first, then the fresh block.
  if (drawn_lines_ > 0) out += absl::StrFormat("\x1b[%dA", drawn_lines_);
  {
    std::lock_guard<std::mutex> lock(*pending_mu_);
    for (const std::string& line : *pending_) out += "\r\x1b[2K" + line;
    pending_->clear();
  }
  for (const Row& row : rows_) out += "\r\x1b[2K" + Line(row) + "\n";
  out += "\x1b[J";  // clear whatever the previous, longer block left below
  drawn_lines_ = rows_.size();
  WriteAll(STDOUT_FILENO, out);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  PollRemaining();  // the summary's "left" column
  if (!terminal_) return;
  Redraw();
  log::SetSink(nullptr);
}

std::string Progress::Summary() const {
  std::string out = absl::StrFormat("%-40s %-22s %10s %12s %12s %10s\n", "source", "topic", "moved",
                                    "quarantined", "republished", "left");
  for (const Row& row : rows_) {
    const SourceStats& s = *row.stats;
    out += absl::StrFormat("%-40s %-22s %10d %12d %12d %10d\n", SourceName(s.source),
                           s.topic.empty() ? "(per job)" : s.topic, s.moved.load(),
                           s.quarantined.load(), s.republished.load(),
                           std::max<int64_t>(s.remaining, 0));
  }
  return out;
}

}  // namespace nsq::redis_to_nsq
