'use strict'
// nsqjs discovery through our nsqlookupd: a Reader given only lookupdHTTPAddresses (two
// lookupds) finds the three nsqd of a local cluster and receives every message published to
// each of them, including from a node that starts producing the topic after the Reader started.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const nsq = require('nsqjs')
const {startNsqd, startNsqlookupd, connectWriter, publish, waitFor} = require('./nsqd_harness')

let lookupds = []
let nsqds = []
before(async () => {
  lookupds = [await startNsqlookupd(), await startNsqlookupd()]
  const flags = [
    '--broadcast-address=127.0.0.1',
    ...lookupds.map((l) => `--lookupd-tcp-address=${l.tcpAddress}`),
  ]
  nsqds = [await startNsqd(flags), await startNsqd(flags), await startNsqd(flags)]
})
after(async () => {
  await Promise.all([...nsqds, ...lookupds].map((daemon) => daemon.stop()))
})

const numbered = (prefix, n) => Array.from({length: n}, (_, i) => `${prefix}${i}`)

async function post(url, body = '') {
  const response = await fetch(url, {method: 'POST', body})
  assert.equal(response.status, 200, `POST ${url}`)
}

// The tcp ports a lookupd lists for the topic, sorted ([] while it does not know the topic).
async function listedPorts(lookupd, topic) {
  const response = await fetch(`${lookupd.httpUrl}/lookup?topic=${topic}`)
  if (response.status !== 200) return []
  const doc = await response.json()
  return doc.producers.map((p) => p.tcp_port).sort()
}

async function waitUntilListed(topic, nodes) {
  const wanted = JSON.stringify(nodes.map((n) => n.tcpPort).sort())
  await waitFor(
    async () => {
      const lists = await Promise.all(lookupds.map((l) => listedPorts(l, topic)))
      return lists.every((ports) => JSON.stringify(ports) === wanted)
    },
    10000,
    `both lookupds to list ${wanted} for ${topic}`,
  )
}

// A Reader that knows only the lookupds. It polls one lookupd per lookupdPollInterval (round
// robin), the first at connect. `seen` counts deliveries per body; `connected` holds the nsqd
// "host:port" it is connected to.
function startLookupdReader(t, topic, channel) {
  const reader = new nsq.Reader(topic, channel, {
    lookupdHTTPAddresses: lookupds.map((l) => l.httpAddress),
    lookupdPollInterval: 1,
    maxInFlight: 10,
  })
  t.after(() => reader.close())
  reader.seen = new Map()
  reader.connected = new Set()
  reader.errors = []
  reader.on('error', (err) => reader.errors.push(err))
  reader.on('nsqd_connected', (host, port) => reader.connected.add(`${host}:${port}`))
  reader.on('nsqd_closed', (host, port) => reader.connected.delete(`${host}:${port}`))
  reader.on('message', (msg) => {
    const body = msg.body.toString()
    reader.seen.set(body, (reader.seen.get(body) || 0) + 1)
    msg.finish()
  })
  reader.connect()
  return reader
}

function receivedExactlyOnce(reader, bodies) {
  return reader.seen.size === bodies.length && bodies.every((b) => reader.seen.get(b) === 1)
}

// Publishes to the three nodes three ways: nsqjs Writer PUB, Writer MPUB, and HTTP /pub.
async function publishEverywhere(t, topic, prefix, count) {
  const bodies = []
  for (const [i, nsqd] of nsqds.entries()) {
    const batch = numbered(`${prefix}-n${i}-`, count)
    bodies.push(...batch)
    if (i === 2) {
      for (const body of batch) await post(`${nsqd.httpUrl}/pub?topic=${topic}`, body)
      continue
    }
    const writer = await connectWriter(nsqd, {}, t)
    if (i === 0) {
      for (const body of batch) await publish(writer, topic, body)
    } else {
      await publish(writer, topic, batch)
    }
  }
  return bodies
}

test('a Reader given lookupdHTTPAddresses receives every message of each nsqd', async (t) => {
  for (const nsqd of nsqds) await post(`${nsqd.httpUrl}/topic/create?topic=discovered`)
  await waitUntilListed('discovered', nsqds)
  // Published before the Reader subscribes: each topic keeps them for its first channel.
  const early = await publishEverywhere(t, 'discovered', 'early', 10)

  const reader = startLookupdReader(t, 'discovered', 'work')
  await waitFor(() => reader.connected.size === 3, 10000, 'connections to the 3 nsqd')
  const expectedHosts = nsqds.map((n) => n.tcpAddress).sort()
  assert.deepEqual([...reader.connected].sort(), expectedHosts)
  const late = await publishEverywhere(t, 'discovered', 'late', 30)

  const all = [...early, ...late]
  await waitFor(() => receivedExactlyOnce(reader, all), 15000, `${all.length} messages once each`)
  assert.deepEqual(reader.errors, [])
})

test('a Reader finds an nsqd that gets the topic later, at its next lookupd poll', async (t) => {
  await post(`${nsqds[0].httpUrl}/topic/create?topic=later`)
  await waitUntilListed('later', [nsqds[0]])
  const reader = startLookupdReader(t, 'later', 'work')
  await waitFor(() => reader.connected.size === 1, 10000, 'the connection to the first nsqd')

  // nsqd 1 gets the topic by a publish: it registers, and the next poll (1 s) finds it.
  const writer = await connectWriter(nsqds[1], {}, t)
  await publish(writer, 'later', 'from the second node')
  await waitUntilListed('later', [nsqds[0], nsqds[1]])
  await waitFor(() => reader.connected.size === 2, 10000, 'the connection to the second nsqd')
  await waitFor(
    () => receivedExactlyOnce(reader, ['from the second node']),
    5000,
    'the message published before the Reader knew the node',
  )
  assert.deepEqual(reader.errors, [])
})
