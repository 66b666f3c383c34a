// Acceptance 6: a stalled client next to a reading one at ~5,000 lines/s: the reader
// gets every line, the stalled one a `gap` with the exact count, and the gateway's
// memory stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, sleep } from '../../lib/harness.mjs';
import { Client, contiguous, gate, openGate } from './client.mjs';

const TOTAL = 50000;
// A plain build peaks near 9 MB here. Under AddressSanitizer (ASAN_OPTIONS set by the
// asan test setup) shadow memory, redzones and the 16 MB quarantine come on top.
const RSS_BOUND_KB = (process.env.ASAN_OPTIONS ? 160 : 64) * 1024;
let s;
before(async () => {
  s = await Stack.start({ publisher: true, gateway: true,
    gatewayArgs: ['--max-queue-bytes', '262144', '--slow-timeout', '300'] });
});
after(async () => { if (s) await s.stop(); });

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('reader gets all 50,000 lines; stalled client gets an exact slow_client gap; RSS bounded', async () => {
  // 100 bursts of 500 lines, 0.1 s apart: about 5,000 lines/s for 10 s.
  const c = await s.run('fast', `${gate(1)}; i=0; while [ $i -lt 100 ]; do ` +
    'seq $((i*500+1)) $((i*500+500)); i=$((i+1)); usleep 100000; done; sleep 3600');
  const reader = await Client.open(s.wsUrl);
  const stalled = await Client.open(s.wsUrl);
  // A failed assertion must not leave a paused socket (and the sampler) keeping node
  // alive until meson's timeout: close both whatever happens.
  let sampler = null;
  try {
    await readerAndStalled(c, reader, stalled, (t) => { sampler = t; });
  } catch (e) {
    reader.ws.terminate();
    stalled.ws.terminate();
    throw e;
  } finally {
    clearInterval(sampler);
  }
  await reader.close();
  await stalled.close();
});

async function readerAndStalled(c, reader, stalled, setSampler) {
  reader.subscribe('r', s.ref(c.name));
  stalled.subscribe('s', s.ref(c.name));
  await reader.until(() => reader.of('replayed', 'r').length === 1);
  await stalled.until(() => stalled.of('replayed', 's').length === 1);
  stalled.ws._socket.pause();   // stops reading: the kernel buffers fill, then the gateway's queue

  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(s.procs.gateway.pid)); }, 100);
  setSampler(sampler);
  const t0 = Date.now();
  await openGate(s, c.name, 1);
  await reader.untilLines('r', TOTAL, 120000);
  const secs = (Date.now() - t0) / 1000;
  const got = reader.lines('r');
  assert.equal(got.length, TOTAL);
  assert.equal(contiguous(got, 1), null);
  assert.deepEqual(got.slice(0, 3).map((l) => l.line), ['1', '2', '3']);
  assert.equal(reader.of('gap').length, 0);
  console.log(`reader: ${TOTAL} lines in ${secs.toFixed(1)} s; gateway peak RSS ${peak} KB`);

  stalled.ws._socket.resume();
  await stalled.until(() => {
    const l = stalled.lines('s');
    return l.length && l.at(-1).line_no === TOTAL;
  }, 60000, 'stalled client to catch up');
  clearInterval(sampler);
  const lines = stalled.lines('s'), gaps = stalled.of('gap', 's');
  assert.ok(gaps.length >= 1, 'a gap was announced');
  const lost = gaps.reduce((n, g) => n + g.lost, 0);
  assert.equal(lines.length + lost, TOTAL);
  for (const g of gaps) assert.equal(g.reason, 'slow_client');
  // Every gap sits exactly where lines are missing, with the exact count.
  let prev = 0, k = 0;
  for (const m of stalled.msgs) {
    if (m.type === 'gap') {
      const next = lines[k];
      assert.equal(next.seq, m.next_seq);
      assert.equal(next.line_no - prev - 1, m.lost);
    } else if (m.type === 'lines' && m.id === 's') {
      for (const l of m.lines) {
        if (stalled.msgs.indexOf(m) >= 0 && l.line_no !== prev + 1) {
          const g = gaps.find((x) => x.next_seq === l.seq);
          assert.ok(g, `hole before line ${l.line_no} without a gap`);
        }
        prev = l.line_no;
        k++;
      }
    }
  }
  assert.ok(peak < RSS_BOUND_KB, `gateway RSS ${peak} KB`);
  const m = await s.metrics('gateway');
  assert.equal(m['logjet_gateway_lost_lines_total{reason="slow_client"}'], lost);
}
