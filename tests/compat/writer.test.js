'use strict'
// nsqjs Writer against our nsqd: PUB, MPUB and DPUB as nsqjs 0.13.0 encodes them, its FIFO
// matching of OK replies, and how it surfaces a fatal error.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const {
  startNsqd,
  connectWriter,
  publish,
  deferPublish,
  startReader,
  waitFor,
  channelStats,
} = require('./nsqd_harness')

let nsqd
before(async () => {
  nsqd = await startNsqd()
})
after(async () => {
  await nsqd.stop()
})

// Subscribes a Reader that finishes every message and records its body.
async function recordingReader(t, topic, channel = 'ch', options = {}) {
  const bodies = []
  const reader = await startReader(t, nsqd, topic, channel, {maxInFlight: 100, ...options}, (msg) => {
    bodies.push(msg.body.toString())
    msg.finish()
  })
  return {reader, bodies}
}

test('publish of one string, Buffer or object sends PUB and each arrives', async (t) => {
  const {reader, bodies} = await recordingReader(t, 'w_pub')
  const writer = await connectWriter(nsqd, {}, t)
  await publish(writer, 'w_pub', 'a string')
  await publish(writer, 'w_pub', Buffer.from([0x00, 0x41, 0x0a]))
  await publish(writer, 'w_pub', {json: true})
  await publish(writer, 'w_pub', ['one-element array'])
  await waitFor(() => bodies.length === 4, 5000, 'four messages')
  const expected = ['\u0000A\n', '{"json":true}', 'a string', 'one-element array']
  assert.deepEqual(bodies.sort(), expected.sort())
  assert.deepEqual(reader.errors, [])
})

test('publish of an array sends MPUB and every message arrives exactly once', async (t) => {
  const {bodies} = await recordingReader(t, 'w_mpub')
  const writer = await connectWriter(nsqd, {}, t)
  const batch = Array.from({length: 50}, (_, i) => `m${i}`)
  await publish(writer, 'w_mpub', batch)
  await waitFor(() => bodies.length === 50, 5000, '50 messages')
  assert.deepEqual([...bodies].sort(), [...batch].sort())
  const channel = await channelStats(nsqd, 'w_mpub', 'ch')
  assert.equal(channel.message_count, 50)
})

test('many publishes in flight at once are all acknowledged', async (t) => {
  const {bodies} = await recordingReader(t, 'w_pipeline')
  const writer = await connectWriter(nsqd, {}, t)
  const sends = []
  for (let i = 0; i < 200; i++) sends.push(publish(writer, 'w_pipeline', `p${i}`))
  await Promise.all(sends)
  await waitFor(() => bodies.length === 200, 10000, '200 messages')
  assert.equal(new Set(bodies).size, 200)
})

test('deferPublish (DPUB) delivers the message only after the delay', async (t) => {
  const received = []
  const reader = await startReader(t, nsqd, 'w_dpub', 'ch', {}, (msg) => {
    received.push({body: msg.body.toString(), at: Date.now(), attempts: msg.attempts})
    msg.finish()
  })
  const writer = await connectWriter(nsqd, {}, t)
  const sent = Date.now()
  await deferPublish(writer, 'w_dpub', 'later', 1000)
  await waitFor(() => received.length === 1, 6000, 'the deferred message')
  assert.equal(received[0].body, 'later')
  assert.equal(received[0].attempts, 1)
  assert.ok(received[0].at - sent >= 900, `arrived after ${received[0].at - sent} ms`)
})

test('a fatal error from nsqd fails the publish callback with its error code', async (t) => {
  const writer = await connectWriter(nsqd, {}, t)
  writer.on('error', () => {})  // nsqjs also emits the error on the Writer
  await assert.rejects(publish(writer, 'bad!topic', 'x'), /E_BAD_TOPIC/)
})
