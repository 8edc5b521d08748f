'use strict'
// nsqjs 0.13.0's authSecret against our nsqd and an auth server this test runs: a valid secret
// publishes and consumes (identity in /stats), a publish-only identity cannot SUB, no AUTH is
// E_AUTH_FIRST, a bad secret E_AUTH_FAILED, and an expired TTL makes nsqd ask again.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const nsq = require('nsqjs')
const {startNsqd, connectWriter, publish, startReader, waitFor, stats} = require('./nsqd_harness')

let nsqd
let authServer
const authRequests = []

// "good"/"short" (ttl 1 s): everything on topics starting with "ok"; "pubonly": publish only.
function answer(secret) {
  if (secret === 'good' || secret === 'short') {
    return [200, {
      ttl: secret === 'short' ? 1 : 3600,
      identity: `js-${secret}`,
      identity_url: `https://id.example/${secret}`,
      authorizations: [{topic: '^ok', channels: ['.*'], permissions: ['subscribe', 'publish']}],
    }]
  }
  if (secret === 'pubonly') {
    return [200, {ttl: 3600, identity: 'js-pubonly',
      authorizations: [{topic: '.*', channels: ['.*'], permissions: ['publish']}]}]
  }
  return [403, {message: 'no'}]
}

before(async () => {
  authServer = http.createServer((req, res) => {
    const secret = new URL(req.url, 'http://x').searchParams.get('secret')
    authRequests.push(secret)
    const [status, body] = answer(secret)
    res.writeHead(status, {'Content-Type': 'application/json'})
    res.end(JSON.stringify(body))
  })
  await new Promise((resolve) => authServer.listen(0, '127.0.0.1', resolve))
  nsqd = await startNsqd([`--auth-http-address=127.0.0.1:${authServer.address().port}`])
})
after(async () => {
  await nsqd.stop()
  authServer.close()
})

// The error a Writer gets from its connection or its publish.
async function writerError(options, topic) {
  const writer = new nsq.Writer('127.0.0.1', nsqd.tcpPort, options)
  try {
    return await new Promise((resolve) => {
      writer.once('error', resolve)
      writer.once('ready', () => writer.publish(topic, 'x', (err) => resolve(err)))
      writer.connect()
    })
  } finally {
    writer.close()
  }
}

test('a valid secret publishes and consumes; /stats shows the identity', async (t) => {
  const bodies = []
  await startReader(t, nsqd, 'ok_js', 'ch', {authSecret: 'good'}, (msg) => {
    bodies.push(msg.body.toString())
    msg.finish()
  })
  const writer = await connectWriter(nsqd, {authSecret: 'good'}, t)
  await publish(writer, 'ok_js', 'authorized')
  await waitFor(() => bodies.length === 1, 5000, 'the message')
  assert.deepEqual(bodies, ['authorized'])
  const doc = await stats(nsqd)
  const client = doc.topics.find((x) => x.topic_name === 'ok_js').channels[0].clients[0]
  assert.equal(client.authed, true)
  assert.equal(client.auth_identity, 'js-good')
  assert.equal(client.auth_identity_url, 'https://id.example/good')
})

test('a publish-only identity cannot subscribe', async (t) => {
  const reader = new nsq.Reader('ok_js_sub', 'ch', {
    nsqdTCPAddresses: [nsqd.tcpAddress], authSecret: 'pubonly'})
  t.after(() => reader.close())
  const error = await new Promise((resolve) => {
    reader.once('error', resolve)
    reader.connect()
  })
  assert.match(String(error), /E_UNAUTHORIZED AUTH failed for SUB on "ok_js_sub" "ch"/)
})

test('no AUTH is E_AUTH_FIRST; a bad secret is E_AUTH_FAILED', async () => {
  assert.match(String(await writerError({}, 'ok_js')), /E_AUTH_FIRST AUTH required before PUB/)
  assert.match(String(await writerError({authSecret: 'wrong'}, 'ok_js')), /E_AUTH_FAILED/)
})

test('when the TTL expires nsqd asks the auth server again', async (t) => {
  const writer = await connectWriter(nsqd, {authSecret: 'short'}, t)
  const asked = () => authRequests.filter((s) => s === 'short').length
  await publish(writer, 'ok_ttl', 'first')
  assert.equal(asked(), 1)
  // The answer holds for one second; publishing on makes nsqd ask again after that.
  await waitFor(async () => {
    await publish(writer, 'ok_ttl', 'again')
    return asked() >= 2
  }, 5000, 'a second auth request')
})
