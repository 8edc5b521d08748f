'use strict'
// Shared by the nsqjs compatibility tests: starts the nsqd under test (the binary named by
// NSQD_BINARY) on free loopback ports with a temporary data directory, and nsqlookupd (named by
// NSQLOOKUPD_BINARY) for the discovery tests, and wraps nsqjs' callback/event API in promises
// so each test reads as its scenario.
//
//   const nsqd = await startNsqd()
//   const writer = await connectWriter(nsqd)
//   await publish(writer, 'topic', 'hello')
//   await nsqd.stop()

const {spawn} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const nsq = require('nsqjs')

const STARTUP_TIMEOUT_MS = 15000

// Starts `binary` with `args` and resolves, once it has logged both "TCP: listening on
// host:port" and "HTTP: listening on host:port", to {tcpPort, httpPort, output(), stop()};
// rejects if it exits or stays silent. `name` is for error messages; `dir` (optional) is a
// temporary directory removed by stop().
async function spawnDaemon(name, binary, args, dir = null) {
  const child = spawn(binary, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  // A test file that dies must not leave the daemon behind.
  const killOnExit = () => child.kill('SIGKILL')
  process.on('exit', killOnExit)

  const ports = await new Promise((resolve, reject) => {
    const found = {}
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not report its ports in time; output:\n${output}`))
    }, STARTUP_TIMEOUT_MS)
    const onData = (chunk) => {
      output += chunk.toString()
      for (const [key, what] of [['tcp', 'TCP'], ['http', 'HTTP']]) {
        const match = new RegExp(`(^|[^A-Z])${what}: listening on \\S*:(\\d+)`, 'm').exec(output)
        if (match) found[key] = Number(match[2])
      }
      if (found.tcp && found.http) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code ?? signal}) during startup; output:\n${output}`))
    })
  })

  return {
    tcpPort: ports.tcp,
    httpPort: ports.http,
    tcpAddress: `127.0.0.1:${ports.tcp}`,
    httpAddress: `127.0.0.1:${ports.http}`,
    httpUrl: `http://127.0.0.1:${ports.http}`,
    output: () => output,
    // SIGTERM, then SIGKILL if it has not exited within 10 s; removes `dir`.
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
        await gone
        clearTimeout(timer)
      }
      process.removeListener('exit', killOnExit)
      if (dir) fs.rmSync(dir, {recursive: true, force: true})
    },
  }
}

// nsqd (the binary named by NSQD_BINARY) on free loopback ports with a fresh data directory.
async function startNsqd(extraArgs = []) {
  const binary = process.env.NSQD_BINARY
  if (!binary) throw new Error('NSQD_BINARY is not set (CTest sets it)')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsqd-compat-'))
  const args = [
    '--tcp-address=127.0.0.1:0',
    '--http-address=127.0.0.1:0',
    `--data-path=${dataDir}`,
  ]
  // NSQD_WORKER_THREADS: the shards every test's nsqd runs with (as the C++ fixtures).
  if (process.env.NSQD_WORKER_THREADS) {
    args.push(`--worker-threads=${process.env.NSQD_WORKER_THREADS}`)
  }
  args.push(...extraArgs)
  return spawnDaemon('nsqd', binary, args, dataDir)
}

// nsqlookupd (the binary named by NSQLOOKUPD_BINARY) on free loopback ports. `tcpAddress` is
// what nsqd's --lookupd-tcp-address takes, `httpAddress` what nsqjs' lookupdHTTPAddresses does.
async function startNsqlookupd(extraArgs = []) {
  const binary = process.env.NSQLOOKUPD_BINARY
  if (!binary) throw new Error('NSQLOOKUPD_BINARY is not set (CTest sets it)')
  const args = [
    '--tcp-address=127.0.0.1:0',
    '--http-address=127.0.0.1:0',
    '--broadcast-address=127.0.0.1',
    ...extraArgs,
  ]
  return spawnDaemon('nsqlookupd', binary, args)
}

// A Writer that has finished its handshake. With a node:test context `t`, it is closed when
// the test ends, pass or fail (an open nsqjs connection keeps the test process alive).
function connectWriter(nsqd, options = {}, t = null) {
  return new Promise((resolve, reject) => {
    const writer = new nsq.Writer('127.0.0.1', nsqd.tcpPort, options)
    if (t) t.after(() => writer.close())
    writer.once('ready', () => resolve(writer))
    writer.once('error', reject)
    writer.connect()
  })
}

// Writer.publish as a promise (resolves when nsqd answered OK).
function publish(writer, topic, msgs) {
  return new Promise((resolve, reject) => {
    writer.publish(topic, msgs, (err) => (err ? reject(err) : resolve()))
  })
}

// Writer.deferPublish as a promise; nsqjs 0.13.0 wants the message in a one-element array.
function deferPublish(writer, topic, msg, delayMs) {
  return new Promise((resolve, reject) => {
    writer.deferPublish(topic, [msg], delayMs, (err) => (err ? reject(err) : resolve()))
  })
}

// A Reader that is subscribed (nsqd answered SUB with OK), closed when the test `t` ends.
// Errors are collected in reader.errors so a test can assert there were none. `onMessage` is
// attached before the connection starts, so no message can be missed.
function startReader(t, nsqd, topic, channel, options, onMessage) {
  return new Promise((resolve, reject) => {
    const reader = new nsq.Reader(topic, channel, {
      nsqdTCPAddresses: [nsqd.tcpAddress],
      ...options,
    })
    t.after(() => reader.close())
    reader.errors = []
    reader.on('error', (err) => reader.errors.push(err))
    reader.on('message', onMessage)
    const timer = setTimeout(() => reject(new Error('Reader not ready in 10 s')), 10000)
    reader.once('ready', () => {
      clearTimeout(timer)
      resolve(reader)
    })
    reader.connect()
  })
}

// Polls `predicate` every 10 ms until it is true; rejects after `timeoutMs` with `what`.
async function waitFor(predicate, timeoutMs, what) {
  const end = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// The JSON /stats document.
async function stats(nsqd) {
  const response = await fetch(`${nsqd.httpUrl}/stats?format=json`)
  if (response.status !== 200) throw new Error(`/stats answered ${response.status}`)
  return response.json()
}

async function channelStats(nsqd, topic, channel) {
  const doc = await stats(nsqd)
  const t = (doc.topics || []).find((x) => x.topic_name === topic)
  return t && t.channels.find((c) => c.channel_name === channel)
}

module.exports = {
  startNsqd,
  startNsqlookupd,
  connectWriter,
  publish,
  deferPublish,
  startReader,
  waitFor,
  stats,
  channelStats,
}
