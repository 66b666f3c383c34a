// Log rotation under load: json-file with a max-size small enough to rotate every
// fraction of a second. Docker 20.10's live follow repeats lines after
// a rotation (and, rotating faster than it reads, skips some). The container numbers its
// own lines (in the test only: the product never relies on that): every number is
// stored exactly once, line_no stays contiguous, and a line Docker's follow skipped is
// read again from the rotated files while they still hold it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';
import { readStream, checkLineNos } from '../../chaos/checker.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, replayDepth: 1000000, publisherArgs: ['--log-level', 'debug'] }); });
after(async () => { if (s) await s.stop(); });

const PAD = 'x'.repeat(80);

/** Prints rate lines/s for secs seconds, every 7th to stderr too; returns {name, out, err}. */
async function rotating(name, maxSize, maxFile, rate, secs) {
  const per = Math.round(rate / 100);
  const script = `i=0; n=$((${rate}*${secs})); while [ $i -lt $n ]; do j=0; while [ $j -lt ${per} ]; do ` +
    `i=$((i+1)); echo "o $i ${PAD}"; if [ $((i % 7)) -eq 0 ]; then echo "e $i ${PAD}" >&2; fi; j=$((j+1)); done; ` +
    'usleep 10000; done; echo "o end"';
  const c = await s.run(name, script, { args: ['--log-opt', `max-size=${maxSize}`, '--log-opt', `max-file=${maxFile}`] });
  return { ...c, out: rate * secs + 1, err: Math.floor((rate * secs) / 7) };  // 'o end' counts in out
}

async function measure(c) {
  await s.wait(c.name);
  const nc = await s.nc();
  let recs = [];
  // Wait for the last line, then for the stream to stop growing.
  await waitFor(async () => {
    recs = (await readStream(nc, 'LOGS', s.hostId)).filter((r) => r.name === c.name);
    return recs.some((r) => r.line.toString() === 'o end');
  }, 60000, `${c.name}: last line stored`, 500);
  for (let n = -1; n !== recs.length;) {
    n = recs.length;
    await sleep(1500);
    recs = (await readStream(nc, 'LOGS', s.hostId)).filter((r) => r.name === c.name);
  }
  const count = { o: new Map(), e: new Map() };
  let odd = 0;
  for (const r of recs) {
    const m = /^([oe]) (\d+|end)/.exec(r.line.toString());
    if (m) count[m[1]].set(m[2], (count[m[1]].get(m[2]) || 0) + 1);
    else if (odd++ < 3) console.log(`odd line: ${JSON.stringify(r.line.toString().slice(0, 120))}`);
  }
  const res = { stored: recs.length, missing: 0, doubled: 0 };
  res.doubledLines = [];
  for (const [k, step] of [['o', 1], ['e', 7]]) {
    for (let i = step; i <= c.out - 1; i += step) {
      const got = count[k].get(String(i)) || 0;
      if (!got) { res.missing++; if (res.missing <= 5) res.missingLines = [...(res.missingLines || []), `${k} ${i}`]; }
      if (got > 1) { res.doubled += got - 1; res.doubledLines.push(`${k} ${i}`); }
    }
  }
  res.lineNo = checkLineNos(recs);
  // The follow is gone once the container is read to its end; its debug log says how
  // often a rotation made it read again.
  res.rereads = fs.readFileSync(s.procs.publisher.logPath, 'utf8').split('\n')
    .filter((l) => l.includes('log rotated; reading it again') && l.includes(c.name)).length;
  return res;
}

test('rotation every ~0.3 s (max-size=10k, max-file=10, 300 lines/s): each line once', async () => {
  // Ten files hold ~3.5 s of this output, slow enough for any build of the publisher
  // (the ASan one too) on a loaded machine: Docker never deletes a file unread here,
  // so every line must come, once.
  const c = await rotating('rot10k', '10k', 10, 300, 10);
  const r = await measure(c);
  console.log(`rot10k: printed ${c.out + c.err}, stored ${r.stored}, missing ${r.missing}, doubled ${r.doubled}, ` +
    `rotation re-reads ${r.rereads}, line_no problems ${r.lineNo.length}` + (r.doubled ? `; doubled: ${r.doubledLines.slice(0, 10).join(', ')}` : '') +
    (r.missing ? `; missing: ${r.missingLines.join(', ')}` : '') + (r.lineNo.length ? `; ${r.lineNo.join('; ')}` : ''));
  assert.deepEqual(r.lineNo, [], 'line_no contiguous');
  assert.equal(r.doubled, 0, 'no line stored twice');
  assert.equal(r.missing, 0, 'no line missing');
});

test('rotation faster than any reader (max-size=20k, max-file=2, 6000 lines/s): never doubled, holes only where Docker deleted the lines', async () => {
  // Here Docker deletes rotated files before a follow can read them (its own follow,
  // read by a client that never pauses, misses about a third of such a run): those
  // lines are gone for every reader. What is stored is still each line at most once,
  // with contiguous line_no; the count missing is printed for the README's numbers.
  const c = await rotating('rot20k', '20k', 2, 6000, 6);
  const r = await measure(c);
  console.log(`rot20k: printed ${c.out + c.err}, stored ${r.stored}, missing ${r.missing}, doubled ${r.doubled}, ` +
    `rotation re-reads ${r.rereads}, line_no problems ${r.lineNo.length}` + (r.doubled ? `; doubled: ${r.doubledLines.slice(0, 10).join(', ')}` : ''));
  assert.deepEqual(r.lineNo, [], 'line_no contiguous');
  assert.equal(r.doubled, 0, 'no line stored twice');
});
