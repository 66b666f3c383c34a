// The publisher's command line: --help, --version, one-line errors naming the bad
// value, and a clean exit on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BUILD_DIR, Stack, run, freePort } from '../../lib/harness.mjs';

const bin = path.join(BUILD_DIR, 'publisher/logjet-publisher');

test('--help lists every option with its environment variable; --version', async () => {
  const r = await run(bin, ['--help']);
  assert.equal(r.code, 0);
  for (const opt of ['nats-url', 'docker-host', 'host-id', 'stream', 'replay-depth', 'replicas', 'http',
    'max-line-bytes', 'opt-in', 'include', 'exclude']) {
    assert.match(r.stdout, new RegExp(`--${opt}\\b`));
    assert.match(r.stdout, new RegExp(`LOGJET_${opt.toUpperCase().replace(/-/g, '_')}\\b`));
  }
  const v = await run(bin, ['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^logjet-publisher \d+\.\d+\.\d+/);
});

test('bad configuration gets a one-line error naming the value', async () => {
  const port = await freePort();
  const cases = [
    [['--include', '(unclosed'], /--include '\(unclosed'/],
    [['--exclude', '[z-a]'], /--exclude '\[z-a\]'/],
    [['--nats-url', 'http://x:1'], /--nats-url 'http:\/\/x:1'/],
    [['--docker-host', 'ftp://nowhere'], /--docker-host 'ftp:\/\/nowhere'/],
    [['--docker-host', 'unix:///nonexistent/docker.sock'], /unix:\/\/\/nonexistent\/docker\.sock/],
    [['--replay-depth', 'many'], /--replay-depth.*'many'/],
    [['--http', 'localhost'], /'localhost'/],
    [['--bogus'], /--bogus/],
  ];
  for (const [args, re] of cases) {
    const r = await run(bin, ['--http', `127.0.0.1:${port}`, ...args], { timeout: 20000 });
    assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], re);
    assert.match(lines[0], /^logjet-publisher: /);
  }
  // The environment is read too, and named when wrong.
  const r = await run(bin, [], { env: { ...process.env, LOGJET_REPLAY_DEPTH: '-5' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /LOGJET_REPLAY_DEPTH: -5 is outside/);
});

test('SIGTERM: stops reading, waits for acks, exits 0', async () => {
  const s = await Stack.start({ publisher: true });
  try {
    await s.run('busy', 'while true; do echo tick; usleep 1000; done');
    await new Promise((r) => setTimeout(r, 1500));
    const info = await s.killPublisher('SIGTERM');
    assert.equal(info.code, 0);
    assert.match(s.procs.publisher.tail(5), /logjet-publisher stopped/);
  } finally {
    await s.stop();
  }
});
