// The Docker engine going away and coming back. The publisher reaches the engine
// through a unix-socket proxy that the test cuts (every connection reset, new ones
// refused) and restores, as a dockerd restart looks to a client (curl 7/18/56), while
// the container keeps printing into the engine's log. Nothing may be lost or doubled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Stack, DOCKER_HOST, waitFor, sleep } from '../../lib/harness.mjs';

class SocketProxy {
  constructor(target) {
    this.target = target;
    this.path = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-proxy-')), 'docker.sock');
    this.conns = new Set();
  }

  async listen() {
    this.server = net.createServer((c) => {
      const up = net.connect(this.target);
      this.conns.add(c).add(up);
      const drop = () => { c.destroy(); up.destroy(); this.conns.delete(c); this.conns.delete(up); };
      c.on('error', drop).on('close', drop);
      up.on('error', drop).on('close', drop);
      c.pipe(up).pipe(c);
    });
    await new Promise((r) => this.server.listen(this.path, r));
  }

  async cut() {
    // close() waits for open connections, so they are reset first.
    const closed = new Promise((r) => this.server.close(r));
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await closed;
  }
}

let s, proxy;
before(async () => {
  proxy = new SocketProxy(DOCKER_HOST.replace('unix://', ''));
  await proxy.listen();
  s = await Stack.start({ publisher: true, replayDepth: 100000, dockerHost: `unix://${proxy.path}` });
});
after(async () => {
  if (s) await s.stop();
  await proxy.cut().catch(() => {});
});

test('engine gone for 3 s mid-stream: the publisher reconnects, re-lists and misses nothing', async () => {
  const c = await s.run('engine', 'i=1; while [ $i -le 6000 ]; do echo "tick $i"; ' +
    'if [ $((i % 5)) -eq 0 ]; then echo "tock $i" >&2; fi; usleep 1000; i=$((i+1)); done');
  await sleep(1500);
  await proxy.cut();
  await waitFor(async () => {
    const r = await fetch(`${s.publisherHttp}/healthz`);
    return r.status === 503;
  }, 10000, 'publisher to report the engine down');
  await sleep(3000);
  await proxy.listen();
  await waitFor(async () => (await fetch(`${s.publisherHttp}/healthz`)).status === 200, 20000,
    'publisher to reconnect to the engine');
  await s.wait(c.name);
  const engine = await s.engineLogs(c.name);
  let recs = [];
  await waitFor(async () => {
    recs = await s.records(c.name);
    return recs.length >= engine.length;
  }, 60000, 'every line stored', 500);
  recs = await s.records(c.name);
  assert.equal(recs.length, engine.length);
  recs.forEach((r, i) => assert.equal(r.lineNo, i + 1));
  assert.deepEqual(recs.map((r) => `${r.stream} ${r.line}`), engine.map((e) => `${e.stream} ${e.line}`));
  const m = await s.metrics('publisher');
  assert.ok(m.logjet_publisher_engine_reconnects_total >= 1);
});

test('a container that exits while the engine is unreachable still has its tail read', async () => {
  const c = await s.run('exits', 'i=1; while [ $i -le 400 ]; do echo "step $i"; usleep 5000; i=$((i+1)); done');
  await waitFor(async () => (await s.records(c.name)).length >= 10, 20000, 'first lines stored', 100);
  await proxy.cut();
  await s.wait(c.name);    // it ends while the publisher cannot reach the engine
  await proxy.listen();
  await waitFor(async () => (await fetch(`${s.publisherHttp}/healthz`)).status === 200, 20000,
    'publisher to reconnect to the engine');
  const engine = await s.engineLogs(c.name);
  let recs = [];
  await waitFor(async () => {
    recs = await s.records(c.name);
    return recs.length >= engine.length;
  }, 30000, `all ${engine.length} lines stored (have ${recs.length})`, 500);
  assert.deepEqual(recs.map((r) => r.line.toString()), engine.map((e) => e.line.toString()));
  recs.forEach((r, i) => assert.equal(r.lineNo, i + 1));
});
