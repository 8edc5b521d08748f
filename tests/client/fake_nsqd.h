// FakeNsqd: a scripted stand-in for nsqd on a free loopback port, for the producer behaviours a
// real nsqd will not show on demand: never answering, reading slowly, dropping a connection.
// It accepts connections one after another, answers IDENTIFY with OK, then parses PUB, MPUB,
// DPUB and NOP and (when answering) replies OK to each publish.
//
//   FakeNsqd fake({.answer = false});
//   Producer producer(fake.address(), config);   // publishes are read, never answered
//   ...
//   fake.DropConnection();                       // the producer's writes fail as Unavailable
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace nsq::client::testing {

class FakeNsqd {
 public:
  struct Options {
    // Reply OK to every PUB/MPUB/DPUB.
    bool answer = true;
    // Read at most this many bytes per second (0: as fast as the client sends).
    int64_t read_bytes_per_second = 0;
  };

  explicit FakeNsqd(Options options);
  ~FakeNsqd();
  FakeNsqd(const FakeNsqd&) = delete;
  FakeNsqd& operator=(const FakeNsqd&) = delete;

  std::string address() const;
  // Publish commands read so far (an MPUB counts once), and messages in them.
  int64_t commands() const { return commands_; }
  int64_t messages() const { return messages_; }
  int64_t connections() const { return connections_; }
  // NOP commands read so far.
  int64_t nops() const { return nops_; }
  // Closes the current connection (the next one is accepted as usual).
  void DropConnection();

 private:
  void Serve();
  void ServeConnection(int fd);

  const Options options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> commands_{0};
  std::atomic<int64_t> messages_{0};
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> nops_{0};
  std::mutex mu_;
  int conn_fd_ = -1;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nsq::client::testing
