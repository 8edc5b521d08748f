#include "tests/testutil/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tests/testutil/wait_for.h"

extern char** environ;

namespace nsq::testutil {
namespace {

// The environment for the child: ours, with `extra` entries added or replacing same-name ones.
std::vector<std::string> BuildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = std::any_of(extra.begin(), extra.end(),
                                [&](const std::string& x) { return name_of(x) == name_of(entry); });
    if (!replaced) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(int output_fd, int error_report_fd, pid_t parent,
                            uint64_t max_file_size_bytes, char* const* argv, char* const* envp) {
  // Die with the test: a crashed test binary must not leave servers listening.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  if (max_file_size_bytes != 0) {
    const rlimit limit{static_cast<rlim_t>(max_file_size_bytes),
                       static_cast<rlim_t>(max_file_size_bytes)};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      int error = errno;
      ssize_t ignored = write(error_report_fd, &error, sizeof(error));
      (void)ignored;
      _exit(127);
    }
  }
  execve(argv[0], argv, envp);
  int error = errno;
  ssize_t ignored = write(error_report_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

}  // namespace

bool EchoRequested() {
  const char* value = std::getenv("NSQ_TEST_ECHO");
  return value != nullptr && *value != '\0' && std::string_view(value) != "0";
}

std::string FindOnPath(std::string_view name, std::string fallback) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return fallback;
  std::string_view dirs(path);
  while (!dirs.empty()) {
    const size_t colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs.remove_prefix(colon == std::string_view::npos ? dirs.size() : colon + 1);
    if (dir.empty()) continue;
    const std::string candidate = std::string(dir) + "/" + std::string(name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return fallback;
}

std::string ExitStatus::ToString() const {
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit code ", exit_code);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(Options options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("Process: empty argv");
  std::vector<std::string> argv_strings = options.argv;
  std::vector<std::string> env_strings = BuildEnvironment(options.extra_env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  int output[2];
  if (pipe2(output, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  // Tells the parent whether exec failed: closed by a successful exec (CLOEXEC), or carries
  // the child's errno.
  int exec_report[2];
  if (pipe2(exec_report, O_CLOEXEC) != 0) {
    close(output[0]);
    close(output[1]);
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    for (int fd : {output[0], output[1], exec_report[0], exec_report[1]}) close(fd);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(error)));
  }
  if (pid == 0) {
    ExecChild(output[1], exec_report[1], parent, options.max_file_size_bytes, argv.data(),
              envp.data());
  }

  close(output[1]);
  close(exec_report[1]);
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_report[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(exec_report[0]);
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    close(output[0]);
    waitpid(pid, nullptr, 0);
    return absl::NotFoundError(
        absl::StrCat("cannot execute ", options.argv[0], ": ", std::strerror(exec_errno)));
  }
  return std::unique_ptr<Process>(new Process(pid, output[0], std::move(options)));
}

Process::Process(pid_t pid, int read_fd, Options options)
    : pid_(pid), read_fd_(read_fd), options_(std::move(options)) {
  if (!options_.log_path.empty()) {
    log_file_ = std::fopen(options_.log_path.c_str(), "a");
  }
  reader_ = std::thread([this] { ReadLoop(); });
}

Process::~Process() {
  Kill();
  // The pipe reaches EOF once the child (its only writer) is gone.
  if (reader_.joinable()) reader_.join();
  close(read_fd_);
  if (log_file_ != nullptr) std::fclose(log_file_);
}

void Process::ReadLoop() {
  std::string partial;
  char buffer[4096];
  while (true) {
    ssize_t n = read(read_fd_, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log_file_ != nullptr) {
      std::fwrite(buffer, 1, static_cast<size_t>(n), log_file_);
      std::fflush(log_file_);
    }
    partial.append(buffer, static_cast<size_t>(n));
    std::lock_guard<std::mutex> lock(mu_);
    size_t start = 0;
    for (size_t nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n', start)) {
      AddLineLocked(partial.substr(start, nl - start));
      start = nl + 1;
    }
    partial.erase(0, start);
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!partial.empty()) AddLineLocked(std::move(partial));
  output_ended_ = true;
  cv_.notify_all();
}

void Process::AddLineLocked(std::string line) {
  if (options_.echo_to_stderr) std::cerr << options_.echo_prefix << line << '\n';
  lines_.push_back(std::move(line));
}

std::optional<std::string> Process::WaitForLine(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  std::unique_lock<std::mutex> lock(mu_);
  size_t checked = 0;
  while (true) {
    for (; checked < lines_.size(); ++checked) {
      if (match(lines_[checked])) return lines_[checked];
    }
    if (output_ended_) return std::nullopt;
    if (cv_.wait_until(lock, end) == std::cv_status::timeout && checked == lines_.size()) {
      return std::nullopt;
    }
  }
}

std::optional<std::string> Process::WaitForOutput(const std::regex& pattern,
                                                  std::chrono::milliseconds deadline) {
  return WaitForLine([&](const std::string& line) { return std::regex_search(line, pattern); },
                     deadline);
}

std::optional<std::string> Process::WaitForOutput(std::string_view substring,
                                                  std::chrono::milliseconds deadline) {
  return WaitForLine(
      [&](const std::string& line) { return line.find(substring) != std::string::npos; }, deadline);
}

bool Process::WaitForOutputEnd(std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, deadline, [&] { return output_ended_; });
}

std::string Process::Output() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const std::string& line : lines_) absl::StrAppend(&out, line, "\n");
  return out;
}

std::string Process::Tail(size_t count) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t first = lines_.size() > count ? lines_.size() - count : 0;
  std::string out;
  for (size_t i = first; i < lines_.size(); ++i) absl::StrAppend(&out, lines_[i], "\n");
  return out;
}

bool Process::Signal(int signal) {
  if (exit_status_.has_value()) return false;
  return kill(pid_, signal) == 0;
}

std::optional<ExitStatus> Process::Wait(std::chrono::milliseconds deadline) {
  if (exit_status_.has_value()) return exit_status_;
  WaitFor(
      [&] {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r != pid_) return false;
        ExitStatus exit;
        if (WIFEXITED(status)) {
          exit.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
          exit.signal = WTERMSIG(status);
        }
        exit_status_ = exit;
        return true;
      },
      deadline);
  // The reader thread may not have drained the pipe yet: callers read Output() next.
  if (exit_status_.has_value()) WaitForOutputEnd(std::chrono::seconds(2));
  return exit_status_;
}

ExitStatus Process::Kill() {
  if (exit_status_.has_value()) return *exit_status_;
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  ExitStatus exit;
  if (r == pid_ && WIFEXITED(status)) {
    exit.exit_code = WEXITSTATUS(status);
  } else if (r == pid_ && WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  }
  exit_status_ = exit;
  return exit;
}

bool Process::Running() { return !Wait(std::chrono::milliseconds(0)).has_value(); }

}  // namespace nsq::testutil
