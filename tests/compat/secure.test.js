'use strict'
// nsqjs 0.13.0 over TLS, snappy and deflate against our nsqd: the Writer publishes and the
// Reader consumes through each stream (and TLS with each compression), and /stats shows what
// each connection negotiated. Certificates are made at test time with openssl.
const {test, before, after} = require('node:test')
const assert = require('node:assert/strict')
const {execFileSync} = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const {startNsqd, connectWriter, publish, startReader, waitFor, stats} = require('./nsqd_harness')

let nsqd
let certDir
let ca

// A CA and a server certificate for 127.0.0.1 / localhost, as tests/testutil/test_certs.cc
// makes them.
function makeCertificates(dir) {
  const openssl = (...args) => execFileSync('openssl', args, {stdio: 'pipe'})
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl('req', '-x509', ...key, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.pem`,
    '-days', '2', '-subj', '/CN=nsqjs-test-ca')
  fs.writeFileSync(`${dir}/server.ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl('req', ...key, '-keyout', `${dir}/server.key`, '-out', `${dir}/server.csr`,
    '-subj', '/CN=127.0.0.1')
  openssl('x509', '-req', '-in', `${dir}/server.csr`, '-CA', `${dir}/ca.pem`, '-CAkey',
    `${dir}/ca.key`, '-CAcreateserial', '-out', `${dir}/server.pem`, '-days', '2',
    '-extfile', `${dir}/server.ext`)
}

before(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsqjs-certs-'))
  makeCertificates(certDir)
  ca = fs.readFileSync(`${certDir}/ca.pem`)
  nsqd = await startNsqd([
    `--tls-cert=${certDir}/server.pem`,
    `--tls-key=${certDir}/server.key`,
    '--https-address=127.0.0.1:0',
  ])
})
after(async () => {
  await nsqd.stop()
  fs.rmSync(certDir, {recursive: true, force: true})
})

const modes = [
  {name: 'tls', options: {tls: true}, expect: {tls: true, snappy: false, deflate: false}},
  {name: 'snappy', options: {snappy: true}, expect: {tls: false, snappy: true, deflate: false}},
  {
    name: 'deflate',
    options: {deflate: true, deflateLevel: 6},
    expect: {tls: false, snappy: false, deflate: true},
  },
  {
    name: 'tls_snappy',
    options: {tls: true, snappy: true},
    expect: {tls: true, snappy: true, deflate: false},
  },
  {
    name: 'tls_deflate',
    options: {tls: true, deflate: true, deflateLevel: 6},
    expect: {tls: true, snappy: false, deflate: true},
  },
]

for (const mode of modes) {
  test(`${mode.name}: Writer publishes and Reader consumes, /stats shows the stream`, async (t) => {
    const options = {...mode.options}
    if (options.tls) Object.assign(options, {tlsVerification: true, ca})
    const topic = `secure_${mode.name}`
    const bodies = []
    const reader = await startReader(t, nsqd, topic, 'ch', {maxInFlight: 10, ...options}, (msg) => {
      bodies.push(msg.body.toString())
      msg.finish()
    })
    const writer = await connectWriter(nsqd, options, t)
    const sent = ['one', 'two', 'x'.repeat(20000)]  // a big one spans snappy chunks / deflate blocks
    await publish(writer, topic, sent)
    await publish(writer, topic, 'single')
    await waitFor(() => bodies.length === 4, 10000, 'four messages')
    assert.deepEqual([...bodies].sort(), [...sent, 'single'].sort())
    assert.deepEqual(reader.errors, [])

    const doc = await stats(nsqd)
    const channel = doc.topics.find((x) => x.topic_name === topic).channels[0]
    assert.equal(channel.clients.length, 1)
    const client = channel.clients[0]
    assert.equal(client.tls, mode.expect.tls)
    assert.equal(client.snappy, mode.expect.snappy)
    assert.equal(client.deflate, mode.expect.deflate)
    if (mode.expect.tls) {
      assert.match(client.tls_version, /^TLS1\.[23]$/)
      assert.notEqual(client.tls_cipher_suite, '')
    }
    const producer = doc.producers.find((p) => p.pub_counts.some((c) => c.topic === topic))
    assert.equal(producer.tls, mode.expect.tls)
    assert.equal(producer.snappy, mode.expect.snappy)
    assert.equal(producer.deflate, mode.expect.deflate)
  })
}
