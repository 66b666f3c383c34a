// Acceptance 4: --level, --stream, -i/-e, -A/-B/-C, -o json, --template, and colours:
// on a pseudo-terminal (util-linux `script`), none when piped or with NO_COLOR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { stored } from '../gateway/client.mjs';
import { tailRun, tailPty, jsonLines } from './lib.mjs';

const LINES = ['level=info msg=start', 'level=warn msg=disk', 'level=info msg=a', 'level=info msg=b',
  'level=error msg=boom', 'level=info msg=c', 'level=info msg=healthz', 'level=info msg=d',
  'level=info msg=e', 'level=error msg="boom again"', 'level=info msg=f'];

let s, f1, f2;
before(async () => {
  s = await Stack.start({ publisher: true });
  f1 = await s.run('flt', LINES.map((l) => `echo '${l}'`).join('; '));
  f2 = await s.run('streams', 'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done');
  await stored(s, f1.name, LINES.length);
  await stored(s, f2.name, 6);
});
after(async () => { if (s) await s.stop(); });

/** Raw lines of a --no-follow run over f1, as 1-based indexes into LINES ("--" kept). */
async function picked(args, name = f1.name) {
  const r = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'raw', ...args, `*/${name}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1).map((l) => (l === '--' ? '--' : LINES.indexOf(l) + 1 || l));
}

test('--level, -i, -e (stern semantics)', async () => {
  assert.deepEqual(await picked(['--level', 'warn,error']), [2, 5, 10]);
  assert.deepEqual(await picked(['--level', 'error']), [5, 10]);
  assert.deepEqual(await picked(['-i', 'boom']), [5, 10]);
  assert.deepEqual(await picked(['-i', 'boom', '-i', 'disk']), [2, 5, 10]);
  assert.deepEqual(await picked(['-i', 'boom', '-e', 'again']), [5]);
  assert.deepEqual(await picked(['-e', 'msg=[a-e]$', '--exclude', 'healthz']), [1, 2, 5, 10, 11]);
});

test('grep-style context -A, -B, -C around --include matches', async () => {
  assert.deepEqual(await picked(['-i', 'boom', '-B', '1']), [4, 5, '--', 9, 10]);
  assert.deepEqual(await picked(['-i', 'boom', '-A', '1']), [5, 6, '--', 10, 11]);
  assert.deepEqual(await picked(['-i', 'boom', '-C', '2']), [3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(await picked(['-i', 'boom', '-C', '1', '-e', 'healthz']), [4, 5, 6, '--', 9, 10, 11]);
  assert.deepEqual(await picked(['-i', 'start', '-B', '5']), [1]);
  assert.deepEqual(await picked(['-i', 'msg=f', '-A', '5', '--level', 'info']), [11]);
});

test('--stream', async () => {
  const r = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'raw', '--stream', 'stderr', `*/${f2.name}`]);
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['err 1', 'err 2', 'err 3']);
  const j = jsonLines((await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'json', '--stream', 'stdout',
    `*/${f2.name}`])).stdout);
  assert.deepEqual(j.map((o) => [o.stream, o.line]), [['stdout', 'out 1'], ['stdout', 'out 2'], ['stdout', 'out 3']]);
});

test('-o json parses, one object per line, and --template renders exactly', async () => {
  const r = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'json', `*/${f1.name}`]);
  const out = jsonLines(r.stdout);
  assert.deepEqual(out.map((o) => o.line), LINES);
  assert.deepEqual(out.map((o) => o.level), ['info', 'warn', 'info', 'info', 'error', 'info', 'info', 'info',
    'info', 'error', 'info']);
  assert.ok(out.every((o) => o.type === 'line' && o.seq > 0 && /^[0-9a-f]{64}$/.test(o.container_id)));
  const t = await tailRun(s, ['--no-follow', '--tail', '2', '--template', '{ref}|{level}|{line_no}|{{{line}}}\\t.',
    `*/${f1.name}`]);
  assert.equal(t.stdout, `${s.hostId}/${f1.name}|error|10|{${LINES[9]}}\t.\n${s.hostId}/${f1.name}|info|11|{${LINES[10]}}\t.\n`);
});

test('colours on a terminal, stable per container; none when piped or with NO_COLOR', async () => {
  const pty = await tailPty(s, ['--no-follow', '--tail', 'all', '-H', 'boom', `*/${f1.name}`]);
  const text = pty.out.toString().replace(/\r\n/g, '\n');
  const prefix = new RegExp(`^\\x1b\\[(3[1-6]|9[1-6])m${s.hostId}/${f1.name}\\x1b\\[0m `);
  const lines = text.split('\n').filter(Boolean);
  assert.equal(lines.length, LINES.length, JSON.stringify(text));
  const colours = lines.map((l) => (l.match(prefix) || [])[1]);
  assert.ok(colours.every((c) => c && c === colours[0]), JSON.stringify(lines));
  assert.ok(lines[4].includes('\x1b[31mERROR\x1b[0m level=error msg=\x1b[7mboom\x1b[27m'), JSON.stringify(lines[4]));
  assert.ok(lines[1].includes('\x1b[33mWARN \x1b[0m'));
  const again = (await tailPty(s, ['--no-follow', '--tail', '1', `*/${f1.name}`])).out.toString();
  assert.equal(again.match(prefix)[1], colours[0]);

  const piped = await tailRun(s, ['--no-follow', '--tail', 'all', '-H', 'boom', `*/${f1.name}`]);
  assert.ok(!piped.stdout.includes('\x1b'));
  assert.equal(piped.stdout.split('\n')[4], `${s.hostId}/${f1.name} ERROR level=error msg=boom`);
  const nocolor = await tailPty(s, ['--no-follow', '--tail', 'all', `*/${f1.name}`], { env: { NO_COLOR: '1' } });
  assert.ok(!nocolor.out.includes(0x1b));
  const forced = await tailRun(s, ['--no-follow', '--tail', '1', '--color', 'always', `*/${f1.name}`]);
  assert.match(forced.stdout, prefix);
});
