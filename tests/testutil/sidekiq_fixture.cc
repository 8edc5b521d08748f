#include "tests/testutil/sidekiq_fixture.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#ifndef NSQ_SOURCE_DIR
#error "NSQ_SOURCE_DIR must be defined (tests/testutil/CMakeLists.txt)"
#endif

namespace nsq::testutil {
namespace {



// Ruby's stderr for an error message. A Ruby exception prints its message first and then a
// long backtrace, so keep the beginning and the end.
std::string Excerpt(const std::string& text) {
  constexpr size_t kHead = 2500;
  constexpr size_t kTail = 1000;
  if (text.empty()) return "(empty)\n";
  if (text.size() <= kHead + kTail) return text;
  return absl::StrCat(text.substr(0, kHead), "\n[... ", text.size() - kHead - kTail,
                      " bytes ...]\n", text.substr(text.size() - kTail));
}

// One job line: {"jid":"...","queue":"...","kind":"...","at":FLOAT|null}.
absl::StatusOr<FixtureJob> ParseJobLine(const std::string& line) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(line, error);
  if (error || !value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("not a JSON object: ", line));
  }
  const boost::json::object& object = value.get_object();
  FixtureJob job;
  for (auto [name, field] :
       {std::pair{"jid", &job.jid}, std::pair{"queue", &job.queue}, std::pair{"kind", &job.kind}}) {
    const boost::json::value* v = object.if_contains(name);
    if (v == nullptr || !v->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("no string \"", name, "\" in ", line));
    }
    *field = std::string(v->get_string());
  }
  const boost::json::value* at = object.if_contains("at");
  if (at == nullptr) return absl::InvalidArgumentError(absl::StrCat("no \"at\" in ", line));
  if (at->is_null()) return job;
  if (!at->is_number()) {
    return absl::InvalidArgumentError(absl::StrCat("\"at\" is neither a number nor null: ", line));
  }
  // Boost.JSON 1.81 may round a double's last bit differently from strtod, and tests compare
  // `at` with the score Redis holds (ZSCORE, parsed exactly). So the number's own text is read
  // with from_chars; the script writes "at" last (Ruby's JSON.generate keeps the hash order).
  static const std::regex kAt("\"at\":([-+0-9.eE]+)\\}$");
  std::smatch match;
  double at_value = 0;
  if (!std::regex_search(line, match, kAt) ||
      std::from_chars(&*match[1].first, &*match[1].first + match[1].length(), at_value).ec !=
          std::errc()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read \"at\" of ", line));
  }
  job.at = at_value;
  return job;
}

}  // namespace

std::string SidekiqFixtureScript() { return NSQ_SOURCE_DIR "/tests/redis/sidekiq_fixture.rb"; }

std::string RubyPath() {
  const char* env = std::getenv("RUBY");
  if (env != nullptr && *env != '\0') return env;
  return FindOnPath("ruby", "/usr/bin/ruby");
}

absl::StatusOr<std::unique_ptr<SidekiqFixtureProcess>> SidekiqFixtureProcess::Start(
    std::vector<std::string> args) {
  const std::string ruby = RubyPath();
  if (access(ruby.c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("no ruby at ", ruby,
                     " (install ruby ruby-sidekiq ruby-redis-namespace ruby-activejob, "
                     "see scripts/setup.sh, or set RUBY)"));
  }
  const std::string script = SidekiqFixtureScript();
  if (access(script.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("the Sidekiq fixture script is missing: ", script));
  }
  std::unique_ptr<SidekiqFixtureProcess> fixture(new SidekiqFixtureProcess());
  fixture->quiet_ = std::find(args.begin(), args.end(), "--quiet") != args.end();
  fixture->dir_ = std::make_unique<TempDir>("sidekiq-fixture");

  // Process captures stdout and stderr together; the job lines must not be interleaved with
  // Ruby's warnings (stdout is block-buffered, so a warning could land inside a line). The
  // shell only sets up the redirection and execs ruby, so the pid is ruby's and signals reach it.
  Process::Options options;
  options.argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>>\"$SIDEKIQ_FIXTURE_STDERR\"", ruby,
                  script};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.extra_env = {absl::StrCat("SIDEKIQ_FIXTURE_STDERR=", fixture->dir_->File("stderr"))};
  options.log_path = fixture->dir_->File("stdout");
  options.echo_to_stderr = EchoRequested();
  options.echo_prefix = "  sidekiq_fixture| ";
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(std::move(options));
  if (!process.ok()) return process.status();
  fixture->process_ = std::move(*process);
  return fixture;
}

std::string SidekiqFixtureProcess::Stderr() const {
  std::ifstream in(dir_->File("stderr"), std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<FixtureResult> SidekiqFixtureProcess::Wait(std::chrono::milliseconds deadline) {
  std::optional<ExitStatus> status = process_->Wait(deadline);
  if (!status.has_value()) {
    process_->Kill();
    return absl::DeadlineExceededError(absl::StrCat("sidekiq_fixture.rb did not finish within ",
                                                    deadline.count(), " ms (killed); its stderr:\n",
                                                    Excerpt(Stderr())));
  }
  if (!status->exited() || status->exit_code != 0) {
    std::string stdout_tail = process_->Tail(5);
    return absl::InternalError(absl::StrCat(
        "sidekiq_fixture.rb ", status->ToString(), "; its stderr:\n", Excerpt(Stderr()),
        stdout_tail.empty() ? "" : absl::StrCat("its stdout ends with:\n", stdout_tail)));
  }

  static const std::regex kSummary("^(created|pushed) ([0-9]+)$");
  FixtureResult result;
  bool summary_seen = false;
  std::istringstream lines(process_->Output());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (summary_seen) {
      return absl::InternalError(
          absl::StrCat("sidekiq_fixture.rb printed after its summary: ", line));
    }
    std::smatch match;
    if (std::regex_match(line, match, kSummary)) {
      if (!absl::SimpleAtoi(match[2].str(), &result.count)) {
        return absl::InternalError(absl::StrCat("bad summary line: ", line));
      }
      summary_seen = true;
      continue;
    }
    absl::StatusOr<FixtureJob> job = ParseJobLine(line);
    if (!job.ok()) {
      return absl::InternalError(
          absl::StrCat("unexpected sidekiq_fixture.rb output (", job.status().message(), ")"));
    }
    result.jobs.push_back(std::move(*job));
  }
  if (!summary_seen) {
    return absl::InternalError(absl::StrCat(
        "sidekiq_fixture.rb exited 0 without its \"created N\"/\"pushed N\" line; stderr:\n",
        Excerpt(Stderr())));
  }
  if (!quiet_ && static_cast<int64_t>(result.jobs.size()) != result.count) {
    return absl::InternalError(absl::StrCat("sidekiq_fixture.rb reported ", result.count,
                                            " jobs but printed ", result.jobs.size(),
                                            " job lines"));
  }
  return result;
}

absl::StatusOr<FixtureResult> SidekiqFixtureProcess::Stop(std::chrono::milliseconds deadline) {
  process_->Signal(SIGTERM);
  absl::StatusOr<FixtureResult> result = Wait(deadline);
  if (!result.ok() && process_->Wait(std::chrono::milliseconds(0)).has_value() &&
      process_->Wait(std::chrono::milliseconds(0))->signal == SIGTERM) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sidekiq_fixture.rb was killed by SIGTERM before it had installed its TERM trap (Ruby "
        "still loading); stop it only after it has pushed something. ",
        result.status().message()));
  }
  return result;
}

absl::StatusOr<std::vector<FixtureJob>> RunSidekiqFixture(std::vector<std::string> args,
                                                          std::chrono::milliseconds deadline) {
  absl::StatusOr<std::unique_ptr<SidekiqFixtureProcess>> fixture =
      SidekiqFixtureProcess::Start(std::move(args));
  if (!fixture.ok()) return fixture.status();
  absl::StatusOr<FixtureResult> result = (*fixture)->Wait(deadline);
  if (!result.ok()) return result.status();
  return std::move(result->jobs);
}

}  // namespace nsq::testutil
