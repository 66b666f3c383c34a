// The publisher's --http side under unfriendly clients, on the real daemon (its loop,
// its fd budget): 1000 idle connections (half of them silent, opened again whenever the
// server closes one; half idle after one byte, which the kernel's deferred accept cannot
// hold back) and 20 slowloris clients, opened again when cut off, must not keep /healthz
// from answering 200, nor the publisher from storing a container's lines. (One-byte
// connections reopened in a tight loop are a connection flood, not idle connections:
// that is for a firewall.) Then HEAD, 405,
// 414 and 431 on the wire.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true }); });
after(async () => { if (s) await s.stop(); });

function connect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => resolve(c));
    c.on('error', () => resolve(null));
  });
}

/** Sends raw bytes, returns everything the server sends until it closes (10 s limit). */
function exchange(port, bytes) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(bytes));
    const parts = [];
    const timer = setTimeout(() => { c.destroy(); reject(new Error('no close within 10 s')); }, 10000);
    c.on('data', (d) => parts.push(d));
    c.on('error', () => {});
    c.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(parts).toString('latin1')); });
  });
}

test('1000 idle and 20 slowloris connections: /healthz stays 200 and lines are stored', async () => {
  const port = s.ports.publisher;
  const held = new Set();
  let closedByServer = 0;
  let stopping = false;
  const hold = async (slow, oneByte) => {
    const c = await connect(port);
    if (!c) return;
    held.add(c);
    c.on('close', () => {
      held.delete(c);
      if (stopping) return;
      closedByServer++;
      if (!oneByte) hold(slow, oneByte);     // the attacker opens it again at once
    });
    if (oneByte) c.write('G');
    if (slow) {
      c.write('GET /healthz HTTP/1.1\r\nX-a: ');
      const t = setInterval(() => { if (c.writable) c.write('a'); }, 100);
      c.on('close', () => clearInterval(t));
    }
  };
  for (let i = 0; i < 1000; i++) await hold(false, i % 2 === 1);
  for (let i = 0; i < 20; i++) await hold(true, false);

  const c = await s.run('under-siege', 'for i in $(seq 1 200); do echo "line $i"; done');
  // Probes across more than the 5 s head deadline, as a kubelet would send them.
  const times = [];
  for (let i = 0; i < 16; i++) {
    const t0 = Date.now();
    const r = await fetch(`${s.publisherHttp}/healthz`, { headers: { connection: 'close' } });
    const body = await r.text();
    times.push(Date.now() - t0);
    assert.equal(r.status, 200, `probe ${i}: ${r.status} ${body}`);
    assert.match(body, /^ok\n/);
    await sleep(500);
  }
  console.log(`probes: ${times.join(' ')} ms; server closed ${closedByServer} connections, ` +
              `${held.size} held at the end`);
  assert.ok(Math.max(...times) < 5000, `a probe waited ${Math.max(...times)} ms`);
  assert.ok(closedByServer >= 500 - 64, `only ${closedByServer} closed by the server`);

  assert.equal(await s.wait(c.name), 0);
  await waitFor(async () => (await s.records(c.name)).length === 200, 30000, '200 lines stored');
  stopping = true;
  for (const h of held) h.destroy();
});

test('HEAD has headers only; an over-long request line gets 414, an over-long head 431', async () => {
  const port = s.ports.publisher;
  const get = await exchange(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  const head = await exchange(port, 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(get, /^HTTP\/1\.0 200 OK\r\n/);
  assert.match(head, /^HTTP\/1\.0 200 OK\r\n/);
  const len = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)[1]);
  assert.ok(len > 0);
  assert.ok(head.endsWith('\r\n\r\n'), 'HEAD answer ends with its head');
  assert.equal(get.length - get.indexOf('\r\n\r\n') - 4, Number(/\r\nContent-Length: (\d+)\r\n/.exec(get)[1]));
  const longLine = await exchange(port, `GET /${'a'.repeat(3000)} HTTP/1.1\r\n\r\n`);
  assert.match(longLine, /^HTTP\/1\.0 414 /);
  const longHead = await exchange(port, `GET / HTTP/1.1\r\n${`X-Pad: ${'b'.repeat(100)}\r\n`.repeat(100)}\r\n`);
  assert.match(longHead, /^HTTP\/1\.0 431 /);
  const post = await exchange(port, 'POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n');
  assert.match(post, /^HTTP\/1\.0 405 [^\r]*\r\n(?:[^\r]*\r\n)*Allow: GET, HEAD\r\n/);
});
