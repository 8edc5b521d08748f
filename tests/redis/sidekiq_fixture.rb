#!/usr/bin/env ruby
# frozen_string_literal: true

# sidekiq_fixture.rb - creates authentic Sidekiq state in Redis for the
# redis_to_nsq migration tests.
#
# Everything is written through Sidekiq's (and ActiveJob's) own client and
# server code, never by hand-crafted Redis commands, so the payloads, key
# names and scores are exactly what a real application produces.
# Written against Debian 12 packages: ruby-sidekiq 6.4.1, ruby-redis 4.8.0,
# ruby-redis-namespace 1.9.0, ruby-activejob 6.1.7.
#
#   ruby tests/redis/sidekiq_fixture.rb --redis-url redis://127.0.0.1:PORT/0 \
#        [--namespace NS] --mode MODE [options]
#
# Modes:
#   enqueue    --queue Q --count N [--prefix P] [--size BYTES] [--batch K]
#              perform_async (or Sidekiq::Client.push_bulk for N >= 1000)
#   schedule   --queue Q --count N --in SECONDS
#              perform_in; SECONDS <= 0 makes Sidekiq push the job straight
#              onto the queue instead of the "schedule" set
#   activejob  --queue Q --count N [--in SECONDS]
#              ActiveJob perform_later through the :sidekiq adapter
#   fail       --queue Q --count N [--engine processor|cli] [--backtrace L]
#              the jobs raise inside Sidekiq's server code; they end in "retry"
#   dead       --queue Q --count N [--engine processor|cli]
#              like fail but with retry: 0, so they end in "dead" (the morgue;
#              Sidekiq trims it to its newest 9,999 entries)
#   push-loop  --queue Q --seconds S --rate R
#              a producer that keeps calling perform_async (cut-over tests)
#
# Output (stdout): one JSON line per job created,
#   {"jid":"...","queue":"...","kind":"immediate|scheduled|retry|dead|activejob","at":FLOAT|null}
# where "at" is the job's score in its sorted set (run-at / retry-at / death
# time) or null when it sits in a queue list. --quiet drops those lines.
# The last line is always a summary, "created N" ("pushed N" for push-loop).
# Logs and warnings go to stderr only.
#
# fail/dead take jobs from queue:Q with a real Sidekiq fetch (BRPOP), so they
# refuse to run when queue:Q is not empty; create them before other jobs on
# the same queue or use a queue of their own.
#
# When the `sidekiq` CLI loads this file (`sidekiq -r sidekiq_fixture.rb`,
# which --engine cli does), only the worker classes and the server's Redis
# settings are set up; see the bottom of the file.

require "json"
require "logger"
require "optparse"
require "sidekiq"
require "sidekiq/api" # ScheduledSet, RetrySet, DeadSet: used to read scores back

# redis-rb 4.8 warns about its 5.0 API changes (e.g. Redis#sadd) on every
# Sidekiq push; that is noise for a fixture.
Redis.silence_deprecations = true

# ---------------------------------------------------------------------------
# Worker classes. Their names end up in the payloads' "class" field.
# ---------------------------------------------------------------------------

# The ordinary job used by enqueue, schedule and push-loop.
class MigrationTestWorker
  include Sidekiq::Worker

  def perform(*_args); end
end

# Raised by FailingMigrationWorker; shows up as "error_class".
class MigrationFixtureError < StandardError; end

# Always raises, so Sidekiq's retry machinery takes over (fail and dead modes).
class FailingMigrationWorker
  include Sidekiq::Worker

  def perform(*args)
    raise MigrationFixtureError, "intentional fixture failure for #{args.inspect}"
  end
end

# ---------------------------------------------------------------------------
# Fixture driver, used when the file is run as a script.
# ---------------------------------------------------------------------------
module SidekiqFixture
  MODES = %w[enqueue schedule activejob fail dead push-loop].freeze
  BULK_THRESHOLD = 1000 # at or above this count enqueue uses push_bulk
  DEFAULT_BATCH = 1000  # jobs per push_bulk call, as Sidekiq recommends

  module_function

  def parse_options(argv)
    opts = {prefix: "job", count: 1, quiet: false, engine: "processor",
            in: nil, size: nil, batch: nil, backtrace: nil}
    parser = OptionParser.new do |o|
      o.banner = "usage: ruby #{File.basename(__FILE__)} --redis-url URL --mode MODE [options]"
      o.on("--redis-url URL", "e.g. redis://127.0.0.1:6390/0") { |v| opts[:url] = v }
      o.on("--namespace NS", "redis-namespace prefix (keys become NS:...)") { |v| opts[:namespace] = v }
      o.on("--mode MODE", MODES, "one of #{MODES.join(", ")}") { |v| opts[:mode] = v }
      o.on("--queue Q", "Sidekiq queue name") { |v| opts[:queue] = v }
      o.on("--count N", Integer, "number of jobs (default 1)") { |v| opts[:count] = v }
      o.on("--prefix P", "first job argument (default 'job')") { |v| opts[:prefix] = v }
      o.on("--size BYTES", Integer, "enqueue: pad each job's JSON to about BYTES") { |v| opts[:size] = v }
      o.on("--batch K", Integer, "enqueue: push_bulk batch size; 0 = one perform_async per job") { |v| opts[:batch] = v }
      o.on("--in SECONDS", Float, "schedule/activejob: delay, may be 0 or negative") { |v| opts[:in] = v }
      o.on("--engine ENGINE", %w[processor cli], "fail/dead: in-process Sidekiq::Processor (default) or the sidekiq CLI") { |v| opts[:engine] = v }
      o.on("--backtrace LINES", Integer, "fail/dead: store LINES of error_backtrace") { |v| opts[:backtrace] = v }
      o.on("--seconds S", Float, "push-loop: duration") { |v| opts[:seconds] = v }
      o.on("--rate R", Float, "push-loop: jobs per second") { |v| opts[:rate] = v }
      o.on("--quiet", "no per-job lines, only the summary") { opts[:quiet] = true }
      o.on("--verbose", "Sidekiq/ActiveJob logs on stderr") { opts[:verbose] = true }
    end
    parser.parse!(argv)
    missing = %i[url mode queue].reject { |k| opts[k] }
    missing += %i[in] if opts[:mode] == "schedule" && opts[:in].nil?
    missing += %i[seconds rate] if opts[:mode] == "push-loop" && !(opts[:seconds] && opts[:rate])
    names = missing.map { |m| (m == :url) ? "--redis-url" : "--#{m}" }
    abort("missing #{names.join(", ")}\n#{parser}") unless missing.empty?
    abort("--count must be >= 0") if opts[:count].negative?
    opts
  rescue OptionParser::ParseError => e
    abort("#{e.message}\n#{parser}")
  end

  # Client-side Redis settings, exactly as an application initializer would
  # write them. With :namespace, Sidekiq wraps each connection in
  # Redis::Namespace and every key gets the "NS:" prefix.
  def configure(opts)
    redis = {url: opts[:url]}
    redis[:namespace] = opts[:namespace] if opts[:namespace]
    Sidekiq.configure_client { |config| config.redis = redis }
    Sidekiq.logger = Logger.new($stderr, level: opts[:verbose] ? Logger::INFO : Logger::ERROR)
  end

  def run(argv)
    opts = parse_options(argv)
    configure(opts)
    @quiet = opts[:quiet]
    created = case opts[:mode]
    when "enqueue" then enqueue(opts)
    when "schedule" then schedule(opts)
    when "activejob" then activejob(opts)
    when "fail" then fail_jobs(opts, dead: false)
    when "dead" then fail_jobs(opts, dead: true)
    when "push-loop" then push_loop(opts)
    end
    $stdout.puts(opts[:mode] == "push-loop" ? "pushed #{created}" : "created #{created}")
    $stdout.flush
  end

  # One result line per job (buffered by $stdout; flushed at exit).
  def emit(jid, queue, kind, at)
    return if @quiet
    $stdout.puts(JSON.generate({"jid" => jid, "queue" => queue, "kind" => kind, "at" => at}))
  end

  # jid => score for every member of a Sidekiq sorted set, read back through
  # Sidekiq's API so the reported "at" is exactly what Redis holds.
  def scores(set)
    set.each_with_object({}) { |entry, h| h[entry.jid] = entry.score }
  end

  # ---- enqueue ------------------------------------------------------------

  # Arguments of job i: [prefix, i] plus, with --size, a padding string that
  # brings the whole stored JSON to about `size` bytes.
  def job_args(opts, i)
    return [opts[:prefix], i] unless opts[:size]

    @base_len ||= Sidekiq.dump_json(
      "retry" => true, "queue" => opts[:queue], "class" => MigrationTestWorker.name,
      "args" => [opts[:prefix], 0, ""], "jid" => "0" * 24,
      "created_at" => Time.now.to_f, "enqueued_at" => Time.now.to_f
    ).bytesize
    pad = opts[:size] - @base_len - (i.to_s.size - 1)
    [opts[:prefix], i, "x" * [pad, 0].max]
  end

  def enqueue(opts)
    count = opts[:count]
    batch = opts[:batch] || (count >= BULK_THRESHOLD ? DEFAULT_BATCH : 0)
    worker = MigrationTestWorker.set(queue: opts[:queue])
    if batch <= 0
      count.times do |i|
        emit(worker.perform_async(*job_args(opts, i)), opts[:queue], "immediate", nil)
      end
    else
      # push_bulk: one pipelined LPUSH of up to `batch` jobs; each job still
      # runs through the client middleware and gets its own jid. Jobs of one
      # batch share created_at and enqueued_at.
      0.step(count - 1, batch) do |first|
        last = [first + batch, count].min - 1
        jids = Sidekiq::Client.push_bulk(
          "class" => MigrationTestWorker, "queue" => opts[:queue],
          "args" => (first..last).map { |i| job_args(opts, i) }
        )
        jids.each { |jid| emit(jid, opts[:queue], "immediate", nil) }
      end
    end
    count
  end

  # ---- schedule -----------------------------------------------------------

  def schedule(opts)
    worker = MigrationTestWorker.set(queue: opts[:queue])
    jids = Array.new(opts[:count]) { |i| worker.perform_in(opts[:in], opts[:prefix], i) }
    # perform_in only uses the "schedule" set when the run-at time is in the
    # future; otherwise the job is pushed straight onto queue:Q. Report
    # whichever actually happened.
    report_scheduled(jids, opts[:queue]) { |scheduled| scheduled ? "scheduled" : "immediate" }
  end

  # Emits each jid with its "schedule" score, or null when the job went
  # straight to queue:Q; the block picks the kind from that.
  def report_scheduled(jids, queue)
    at = scores(Sidekiq::ScheduledSet.new)
    jids.each { |jid| emit(jid, queue, yield(at.key?(jid)), at[jid]) }
    jids.size
  end

  # ---- activejob ----------------------------------------------------------

  # Minimal ActiveJob setup without Rails: `require "active_job"` is enough;
  # the :sidekiq adapter is autoloaded from active_job/queue_adapters.
  def load_active_job(opts)
    require "active_job"
    ActiveJob::Base.queue_adapter = :sidekiq
    # ActiveJob logs every enqueue to STDOUT by default.
    ActiveJob::Base.logger = Logger.new($stderr, level: opts[:verbose] ? Logger::INFO : Logger::WARN)
    Object.const_set(:ApplicationJob, Class.new(ActiveJob::Base)) unless defined?(::ApplicationJob)
    unless defined?(::MigrationTestJob)
      Object.const_set(:MigrationTestJob, Class.new(::ApplicationJob) { def perform(*_args); end })
    end
  end

  def activejob(opts)
    load_active_job(opts)
    configured = ::MigrationTestJob.set(queue: opts[:queue])
    configured = ::MigrationTestJob.set(queue: opts[:queue], wait: opts[:in]) if opts[:in]
    jids = Array.new(opts[:count]) do |i|
      job = configured.perform_later(opts[:prefix], i)
      job.provider_job_id # the Sidekiq jid; job.job_id is ActiveJob's UUID
    end
    # Unlike perform_in, ActiveJob's enqueue_at always passes "at", so even a
    # past --in lands in "schedule" (with a past score).
    report_scheduled(jids, opts[:queue]) { "activejob" }
  end

  # ---- fail / dead --------------------------------------------------------

  def fail_jobs(opts, dead:)
    queue = opts[:queue]
    backlog = Sidekiq.redis { |c| c.llen("queue:#{queue}") }
    abort("queue:#{queue} already holds #{backlog} jobs; fail/dead need an empty queue") if backlog.positive?

    # DeadSet#kill trims the morgue with ZREMRANGEBYRANK 0 -dead_max_jobs,
    # which keeps at most dead_max_jobs - 1 (9,999) entries.
    keep = Sidekiq::DeadSet.max_jobs - 1
    abort("the dead set keeps at most #{keep} jobs") if dead && opts[:count] > keep

    set = dead ? Sidekiq::DeadSet.new : Sidekiq::RetrySet.new
    before = set.size

    job_opts = {queue: queue}
    job_opts[:retry] = 0 if dead # retry: 0 = retries exhausted at the first failure
    job_opts[:backtrace] = opts[:backtrace] if opts[:backtrace]
    worker = FailingMigrationWorker.set(job_opts)
    jids = Array.new(opts[:count]) { |i| worker.perform_async(opts[:prefix], i) }

    if opts[:engine] == "cli"
      run_sidekiq_cli(opts, set, before + jids.size)
    else
      run_processor(queue, jids.size)
    end

    after = scores(set)
    lost = jids.reject { |jid| after.key?(jid) }
    abort("#{lost.size} jobs did not reach #{set.name}") unless lost.empty?
    jids.each { |jid| emit(jid, queue, dead ? "dead" : "retry", after[jid]) }
    jids.size
  end

  # Runs Sidekiq's own server-side job processing in this process: a
  # Sidekiq::Processor with the default BasicFetch (BRPOP queue:Q) executes
  # each job; the raised error goes through Sidekiq::JobRetry#local/#global,
  # which writes the "retry" ZADD or the DeadSet#kill, just as inside the
  # sidekiq server. Only the Launcher/Manager threads, heartbeat and
  # scheduler poller are left out, so nothing else in Redis is touched.
  def run_processor(queue, count)
    require "sidekiq/processor"
    fetch = Sidekiq::BasicFetch.new(queues: [queue])
    processor = Sidekiq::Processor.new(nil, Sidekiq.options.merge(fetch: fetch))
    count.times do
      # process_one is private outside Sidekiq's test mode; Processor#run
      # simply loops over it.
      processor.send(:process_one)
    rescue MigrationFixtureError
      # Processor re-raises the job's error after the retry was recorded;
      # the real Processor#run then replaces the thread. Nothing to do here.
    end
  end

  # Starts the packaged `sidekiq` server on queue Q with this file as its
  # application (-r), waits until `expected` jobs are in the target set, then
  # stops it with TERM. Like a real deployment it also leaves its own
  # bookkeeping in Redis: stat:processed/stat:failed counters (plus per-day
  # copies) and a HOST:PID:ID heartbeat hash that expires after 60 s.
  def run_sidekiq_cli(opts, set, expected, timeout: 30)
    env = {"SIDEKIQ_FIXTURE_REDIS_URL" => opts[:url],
           "SIDEKIQ_FIXTURE_NAMESPACE" => opts[:namespace].to_s}
    cmd = ["sidekiq", "-r", File.expand_path(__FILE__), "-q", opts[:queue],
      "-c", "1", "-t", "1", "-e", "production"]
    log = opts[:verbose] ? :err : File::NULL
    pid = Process.spawn(env, *cmd, out: log, err: log)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    while set.size < expected && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      if Process.wait(pid, Process::WNOHANG)
        pid = nil
        abort("sidekiq exited early (#{$?}); rerun with --verbose")
      end
      sleep 0.1
    end
  ensure
    if pid
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end

  # ---- push-loop ----------------------------------------------------------

  # A producer that is still writing while the migration runs: one
  # perform_async every 1/R seconds (paced against the start time, so slow
  # pushes do not lower the average rate) until S seconds have passed or it
  # receives INT/TERM.
  def push_loop(opts)
    stop = false
    %w[INT TERM].each { |sig| trap(sig) { stop = true } }
    worker = MigrationTestWorker.set(queue: opts[:queue])
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    pushed = 0
    until stop
      now = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
      break if now >= opts[:seconds]
      due = pushed / opts[:rate]
      if due > now
        sleep([due - now, opts[:seconds] - now].min)
        next
      end
      emit(worker.perform_async(opts[:prefix], pushed), opts[:queue], "immediate", nil)
      pushed += 1
    end
    pushed
  end
end

if $PROGRAM_NAME == __FILE__
  SidekiqFixture.run(ARGV)
elsif ENV["SIDEKIQ_FIXTURE_REDIS_URL"]
  # Loaded by `sidekiq -r` (--engine cli): point the server at the fixture's
  # Redis and namespace. The workers above are all it needs to run.
  Sidekiq.configure_server do |config|
    redis = {url: ENV["SIDEKIQ_FIXTURE_REDIS_URL"]}
    ns = ENV["SIDEKIQ_FIXTURE_NAMESPACE"].to_s
    redis[:namespace] = ns unless ns.empty?
    config.redis = redis
  end
end
