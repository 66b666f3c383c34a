// logjet-tail takes the daemons' --nats-* options: against a nats-server that requires a
// user and password it prints a stored line with --nats-user and LOGJET_NATS_PASSWORD_FILE;
// a wrong password exits 2 with one message naming the cause and the server, and the
// password appears nowhere in its output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack } from '../../lib/harness.mjs';
import { stored } from '../gateway/client.mjs';
import { secret } from '../security/pki.mjs';
import { tailRun } from './lib.mjs';

const password = secret('pw');
let s;
before(async () => {
  s = await Stack.start({
    publisher: true,
    natsConfig: (st) => `jetstream { store_dir: "${st.storeDir}" }\n`
      + 'authorization { users: [ { user: logjet, password: $LJ_TEST_PASSWORD } ] }\n',
    natsEnv: { LJ_TEST_PASSWORD: password },
    natsClient: { user: 'logjet', pass: password },
    publisherEnv: { LOGJET_NATS_USER: 'logjet', LOGJET_NATS_PASSWORD: password },
  });
});
after(async () => { if (s) await s.stop(); });

function passwordFile(name, text) {
  const f = path.join(s.dir, name);
  fs.writeFileSync(f, `${text}\n`, { mode: 0o600 });
  return f;
}

test('--nats-user with LOGJET_NATS_PASSWORD_FILE reads; a wrong password fails clearly', async () => {
  const c = await s.run('auth', 'echo "the stored line"');
  await s.wait(c.name);
  await stored(s, c.name, 1);
  const ok = await tailRun(s, ['--nats-user', 'logjet', '--no-follow', '-o', 'raw', `*/${c.name}`],
    { env: { LOGJET_NATS_PASSWORD_FILE: passwordFile('pw', password) } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'the stored line\n');

  const wrong = secret('wrong');
  const bad = await tailRun(s, ['--nats-user', 'logjet', '--no-follow', `*/${c.name}`],
    { env: { LOGJET_NATS_PASSWORD_FILE: passwordFile('wrong', wrong) }, timeout: 30000 });
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal(bad.stdout, '');
  const fatal = bad.stderr.split('\n').filter((l) => l.includes('logjet-tail cannot start'));
  assert.equal(fatal.length, 1, bad.stderr);
  assert.match(fatal[0], /Authorization Violation/);
  assert.ok(fatal[0].includes(s.natsUrl), fatal[0]);
  for (const secret of [wrong, password]) assert.ok(!bad.stderr.includes(secret), bad.stderr);
});
