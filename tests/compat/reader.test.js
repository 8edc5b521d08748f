'use strict'
// nsqjs Reader against our nsqd: the RDY window (maxInFlight), requeue, touch, message
// timeouts, fan-out to channels, sharing within a channel, and HTTP publishing.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const {
  startNsqd,
  connectWriter,
  publish,
  startReader,
  waitFor,
  channelStats,
} = require('./nsqd_harness')

let nsqd
let writer
before(async () => {
  nsqd = await startNsqd()
  writer = await connectWriter(nsqd)
})
after(async () => {
  writer.close()
  await nsqd.stop()
})

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const numbered = (prefix, n) => Array.from({length: n}, (_, i) => `${prefix}${i}`)

test('never more than maxInFlight messages are unfinished at once', async (t) => {
  let unfinished = 0
  let maxUnfinished = 0
  const bodies = []
  const reader = await startReader(t, nsqd, 'r_window', 'ch', {maxInFlight: 5}, (msg) => {
    unfinished++
    maxUnfinished = Math.max(maxUnfinished, unfinished)
    bodies.push(msg.body.toString())
    setTimeout(() => {
      unfinished--
      msg.finish()
    }, 20)
  })
  const batch = numbered('w', 60)
  await publish(writer, 'r_window', batch)
  await waitFor(() => bodies.length === 60, 15000, '60 messages')
  assert.ok(maxUnfinished <= 5, `saw ${maxUnfinished} unfinished messages`)
  assert.ok(maxUnfinished >= 2, 'the window was never used')
  assert.deepEqual([...bodies].sort(), [...batch].sort())
  assert.deepEqual(reader.errors, [])
})

test('requeue(0, false) redelivers the message with attempts 2', async (t) => {
  const deliveries = []
  const reader = await startReader(t, nsqd, 'r_requeue', 'ch', {}, (msg) => {
    deliveries.push({id: msg.id, attempts: msg.attempts, body: msg.body.toString()})
    if (msg.attempts === 1) msg.requeue(0, false)
    else msg.finish()
  })
  await publish(writer, 'r_requeue', 'again')
  await waitFor(() => deliveries.length === 2, 5000, 'the redelivery')
  assert.equal(deliveries[0].attempts, 1)
  assert.equal(deliveries[1].attempts, 2)
  assert.equal(deliveries[1].id, deliveries[0].id)
  assert.equal(deliveries[1].body, 'again')
  await waitFor(
    async () => (await channelStats(nsqd, 'r_requeue', 'ch')).requeue_count === 1,
    3000,
    'requeue_count 1',
  )
})

test('an unanswered message times out after messageTimeout and comes back', async (t) => {
  const deliveries = []
  const reader = await startReader(t, nsqd, 'r_timeout', 'ch', {messageTimeout: 1000}, (msg) => {
    deliveries.push({id: msg.id, attempts: msg.attempts, at: Date.now()})
    if (msg.attempts > 1) msg.finish()  // the first delivery is left to time out
  })
  await publish(writer, 'r_timeout', 'slow')
  await waitFor(() => deliveries.length === 2, 8000, 'the redelivery after the timeout')
  assert.equal(deliveries[1].id, deliveries[0].id)
  assert.equal(deliveries[1].attempts, 2)
  const waited = deliveries[1].at - deliveries[0].at
  assert.ok(waited >= 800, `redelivered after ${waited} ms`)
})

test('touch() keeps a message past its messageTimeout', async (t) => {
  const deliveries = []
  let finished = false
  const reader = await startReader(t, nsqd, 'r_touch', 'ch', {messageTimeout: 1000}, async (msg) => {
    deliveries.push(msg.attempts)
    for (let i = 0; i < 4; i++) {
      await sleep(500)  // the handler's work, not synchronisation
      msg.touch()
    }
    msg.finish()  // 2 s after delivery: twice the timeout
    finished = true
  })
  await publish(writer, 'r_touch', 'long job')
  await waitFor(() => finished, 10000, 'the handler to finish the message')
  await waitFor(async () => (await channelStats(nsqd, 'r_touch', 'ch')).in_flight_count === 0,
    5000, 'nsqd to see the FIN')
  assert.deepEqual(deliveries, [1])
  const channel = await channelStats(nsqd, 'r_touch', 'ch')
  assert.equal(channel.timeout_count, 0)
  assert.equal(channel.in_flight_count, 0)
  assert.deepEqual(reader.errors, [])
})

test('every channel of a topic receives every message', async (t) => {
  const received = {a: [], b: [], c: []}
  const readers = []
  for (const channel of Object.keys(received)) {
    readers.push(
      await startReader(t, nsqd, 'r_fanout', channel, {maxInFlight: 10}, (msg) => {
        received[channel].push(msg.body.toString())
        msg.finish()
      }),
    )
  }
  const batch = numbered('f', 20)
  await publish(writer, 'r_fanout', batch)
  await waitFor(
    () => Object.values(received).every((bodies) => bodies.length === 20),
    5000,
    '20 messages on each channel',
  )
  for (const bodies of Object.values(received)) assert.deepEqual(bodies.sort(), [...batch].sort())
})

test('readers sharing a channel get every message once between them', async (t) => {
  const deliveries = new Map()
  const perReader = [0, 0, 0]
  const readers = []
  for (let i = 0; i < 3; i++) {
    readers.push(
      await startReader(t, nsqd, 'r_share', 'ch', {maxInFlight: 10}, (msg) => {
        const body = msg.body.toString()
        deliveries.set(body, (deliveries.get(body) || 0) + 1)
        perReader[i]++
        setTimeout(() => msg.finish(), 5)
      }),
    )
  }
  const batch = numbered('s', 150)
  await publish(writer, 'r_share', batch)
  await waitFor(() => deliveries.size === 150, 15000, '150 distinct messages')
  await sleep(200)
  for (const [body, count] of deliveries) assert.equal(count, 1, `${body} delivered ${count} times`)
  assert.ok(perReader.every((n) => n > 0), `per reader: ${perReader}`)
})

test('a message published over HTTP /pub and /mpub reaches a Reader', async (t) => {
  const bodies = []
  const reader = await startReader(t, nsqd, 'r_http', 'ch', {maxInFlight: 10}, (msg) => {
    bodies.push(msg.body.toString())
    msg.finish()
  })
  let response = await fetch(`${nsqd.httpUrl}/pub?topic=r_http`, {method: 'POST', body: 'via pub'})
  assert.equal(response.status, 200)
  assert.equal(await response.text(), 'OK')
  response = await fetch(`${nsqd.httpUrl}/mpub?topic=r_http`, {method: 'POST', body: 'm1\nm2\n'})
  assert.equal(response.status, 200)
  await waitFor(() => bodies.length === 3, 5000, 'three messages')
  assert.deepEqual(bodies.sort(), ['m1', 'm2', 'via pub'])
})

test('messages in flight at a Reader that closes go to another Reader', async (t) => {
  const first = []
  const leaving = await startReader(t, nsqd, 'r_close', 'ch', {messageTimeout: 1000}, (msg) => {
    first.push(msg.id)  // never answered
  })
  await publish(writer, 'r_close', 'orphan')
  await waitFor(() => first.length === 1, 5000, 'the first delivery')
  leaving.close()  // CLS and an immediate half-close, without waiting for CLOSE_WAIT

  const second = []
  const staying = await startReader(t, nsqd, 'r_close', 'ch', {}, (msg) => {
    second.push({id: msg.id, attempts: msg.attempts})
    msg.finish()
  })
  await waitFor(() => second.length === 1, 8000, 'the redelivery')
  assert.equal(second[0].id, first[0])
  assert.equal(second[0].attempts, 2)
})
