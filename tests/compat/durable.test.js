'use strict'
// nsqjs against nsqd in durable mode (--mem-queue-size=0 --sync-every=1): every publish goes
// through the store and is answered once the write-ahead log is synced, so replies arrive
// later than in memory mode. nsqjs matches them to its commands by order; consumers read the
// messages back from the store.
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
  nsqd = await startNsqd(['--mem-queue-size=0', '--sync-every=1'])
})
after(async () => {
  await nsqd.stop()
})

test('PUB, MPUB and DPUB in flight together are acknowledged, stored and delivered once', async (t) => {
  const writer = await connectWriter(nsqd, {}, t)
  const sends = []
  for (let i = 0; i < 200; i++) sends.push(publish(writer, 'd_mixed', `p${i}`))
  sends.push(publish(writer, 'd_mixed', Array.from({length: 50}, (_, i) => `m${i}`)))
  sends.push(deferPublish(writer, 'd_mixed', 'deferred', 300))
  await Promise.all(sends)
  // Nothing consumed yet: everything waits in the store (the topic had no channel).
  const bodies = []
  const reader = await startReader(t, nsqd, 'd_mixed', 'ch', {maxInFlight: 100}, (msg) => {
    bodies.push(msg.body.toString())
    msg.finish()
  })
  await waitFor(() => bodies.length === 251, 10000, '251 messages')
  assert.equal(new Set(bodies).size, 251)
  const published = bodies.filter((b) => b.startsWith('p')).map((b) => Number(b.slice(1)))
  assert.deepEqual(published, [...published].sort((a, b) => a - b), 'PUBs arrive in order')
  assert.deepEqual(reader.errors, [])
  await waitFor(async () => {
    const channel = await channelStats(nsqd, 'd_mixed', 'ch')
    return channel && channel.depth === 0 && channel.in_flight_count === 0
  }, 5000, 'the channel to drain')
})

test('a message read from the store can be requeued and comes back', async (t) => {
  const writer = await connectWriter(nsqd, {}, t)
  await publish(writer, 'd_requeue', 'again')
  const attempts = []
  await startReader(t, nsqd, 'd_requeue', 'ch', {}, (msg) => {
    attempts.push(msg.attempts)
    if (msg.attempts === 1) msg.requeue(100, false)
    else msg.finish()
  })
  await waitFor(() => attempts.length === 2, 5000, 'the redelivery')
  assert.deepEqual(attempts, [1, 2])
})
