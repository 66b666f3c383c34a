// Acceptance 8: kill the gateway and start another: clients resume with after_seq and
// miss nothing. SIGTERM closes clients with 1001 first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../../lib/harness.mjs';
import { Client, contiguous, stored } from './client.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, gateway: true }); });
after(async () => { if (s) await s.stop(); });

/** Follows a subscription across gateway restarts, resuming from the last seq seen. */
class Follower {
  constructor(ref) { this.ref = ref; this.lines = []; this.gaps = []; this.closes = []; }
  async connect() {
    for (;;) {
      try {
        this.cl = await Client.open(s.wsUrl);
        break;
      } catch { await sleep(100); }
    }
    const last = this.lines.at(-1);
    this.cl.subscribe('f', this.ref, last ? { after_seq: last.seq } : { replay: 1000 });
    this.cl.ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'lines') this.lines.push(...m.lines);
      if (m.type === 'gap') this.gaps.push(m);
    });
    this.cl.ws.on('close', (code) => { this.closes.push(code); if (this.auto) this.connect(); });
  }
}

test('SIGTERM says 1001; SIGKILL and a new gateway: resume misses nothing', async () => {
  const c = await s.run('steady', 'i=1; while [ $i -le 1500 ]; do echo "line $i"; i=$((i+1)); usleep 5000; done; sleep 3600');
  await stored(s, c.name, 10);
  const f = new Follower(s.ref(c.name));
  await f.connect();
  f.auto = true;
  await sleep(1500);
  await s.stopGateway('SIGTERM');
  await waitClose(f, 1);
  assert.equal(f.closes[0], 1001);
  await s.startGateway();
  await sleep(1500);
  await s.stopGateway('SIGKILL');
  await waitClose(f, 2);
  await sleep(500);
  await s.startGateway();
  const last = await stored(s, c.name, 1500, 120000);
  await f.cl.until(() => f.lines.length && f.lines.at(-1).line_no === 1500, 60000, 'follower to reach 1500');
  assert.equal(contiguous(f.lines, f.lines[0].line_no), null);
  assert.equal(f.lines.at(-1).seq, last.seq);
  assert.deepEqual(f.gaps, []);
  f.auto = false;
  await f.cl.close();
});

async function waitClose(f, n) {
  const end = Date.now() + 10000;
  while (f.closes.length < n && Date.now() < end) await sleep(20);
  assert.equal(f.closes.length, n);
}
