// A job worker for one queue until Ctrl-C, and a way to enqueue jobs for it. Two job classes:
// "Echo" prints its args, "Fail" always fails (watch it retry and then land on <queue>.dead).
//
//   nsq_client_example_job_worker work 127.0.0.1:4150 mail
//   nsq_client_example_job_worker enqueue 127.0.0.1:4150 mail Echo '["hello", 42]'
//   nsq_client_example_job_worker enqueue 127.0.0.1:4150 mail Echo '[]' 5000   # 5 s delay
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nsq/jobs.h"

namespace {

int Work(const std::string& nsqd, const std::string& queue) {
  // SIGINT/SIGTERM are blocked in every thread (the worker's inherit the mask) and taken by
  // sigwait below, which then stops the worker cleanly.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  nsq::jobs::WorkerOptions options;
  options.nsqd_tcp_addresses = {nsqd};
  nsq::jobs::Worker worker(queue, options);
  worker.Register("Echo", [](const nsq::jobs::Job& job) {
    std::printf("Echo %s (retry %d): %s\n", job.jid.c_str(), job.retry_count,
                job.args_json.c_str());
    std::fflush(stdout);
    return absl::OkStatus();
  });
  worker.Register("Fail", [](const nsq::jobs::Job& job) {
    return absl::InternalError("Fail always fails (job " + job.jid + ")");
  });
  if (absl::Status status = worker.Start(/*concurrency=*/4); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 2;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  worker.Stop();
  return 0;
}

int Enqueue(const std::string& nsqd, const std::string& queue, const std::string& job_class,
            const std::string& args, long delay_ms) {
  nsq::jobs::Client client(nsqd);
  nsq::jobs::EnqueueOptions options;
  options.delay = std::chrono::milliseconds(delay_ms);
  absl::StatusOr<std::string> jid = client.Enqueue(queue, job_class, args, options);
  if (!jid.ok()) {
    std::fprintf(stderr, "%s\n", jid.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", jid->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "work" && argc == 4) return Work(argv[2], argv[3]);
  if (mode == "enqueue" && (argc == 6 || argc == 7)) {
    return Enqueue(argv[2], argv[3], argv[4], argv[5], argc == 7 ? std::atol(argv[6]) : 0);
  }
  std::fprintf(stderr,
               "usage: %s work <nsqd tcp> <queue>\n"
               "       %s enqueue <nsqd tcp> <queue> <class> <args JSON array> [delay ms]\n",
               argv[0], argv[0]);
  return 2;
}
