// Checks the least privilege of a secured stack's NATS (the nats.conf deploy/secrets.sh
// writes), from the outside, with the stack's own secrets: the reader reads the
// registry entry of a container but cannot delete the stream or write the registry;
// the gateway's user cannot publish a log line; the publisher's user cannot publish
// another host's lines; nothing of it was stored; a client without a certificate, or
// with a certificate and no NKey, is refused.
//
// usage: node nats-perms.js HOST:PORT SECRETS_DIR HOST_TOKEN CONTAINER_TOKEN
// Prints one line per check; exit 0 when all passed.
'use strict';
const fs = require('fs');
const path = require('path');
const { connect, nkeyAuthenticator, StringCodec } = require('nats');

const [server, dir, host, container] = process.argv.slice(2);
if (!server || !dir || !host || !container) {
  console.error('usage: node nats-perms.js HOST:PORT SECRETS_DIR HOST_TOKEN CONTAINER_TOKEN');
  process.exit(2);
}
const f = (n) => path.join(dir, n);
const sc = StringCodec();
let failed = 0;
const result = (ok, what) => { console.log(`${ok ? 'ok' : 'NOT OK'} ${what}`); if (!ok) failed++; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function as(user, { cert = true, nkey = true } = {}) {
  const tls = { caFile: f('ca.pem') };
  if (cert) Object.assign(tls, { certFile: f(`${user}.pem`), keyFile: f(`${user}-key.pem`) });
  const opts = { servers: server, tls, name: `nats-perms-${user}`, reconnect: false, timeout: 5000 };
  if (nkey) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(fs.readFileSync(f(`${user}.nk`), 'utf8').trim()));
  return connect(opts);
}

async function rejects(p) {
  try { await p; return false; } catch { return true; }
}

// Publishes on subject as nc and resolves whether the server answered with a
// permissions violation (it does so asynchronously, on the connection's status).
async function publishRefused(nc, subject) {
  const errors = [];
  (async () => { for await (const st of nc.status()) if (st.type === 'error') errors.push(String(st.data)); })();
  nc.publish(subject, sc.encode('forged'));
  await nc.flush();
  for (let i = 0; i < 50 && !errors.some((e) => /PERMISSIONS_VIOLATION|Permissions Violation/i.test(e)); i++) await sleep(100);
  return errors.some((e) => /PERMISSIONS_VIOLATION|Permissions Violation/i.test(e));
}

(async () => {
  const rd = await as('reader');
  const kv = await rd.jetstream().views.kv('LOGJET_CONTAINERS', { bindOnly: true });
  let entry = null;
  for (let i = 0; i < 50 && !entry; i++) { entry = await kv.get(`${host}.${container}`).catch(() => null); if (!entry) await sleep(200); }
  result(entry && entry.value.length > 0, `reader reads the registry entry ${host}.${container}`);
  const jsm = await rd.jetstreamManager();
  result(await rejects(jsm.streams.delete('LOGS')), 'reader cannot delete the LOGS stream');
  result(await rejects(kv.put(`${host}.${container}`, new Uint8Array([1]))), 'reader cannot write the registry');
  await rd.close();

  const gw = await as('gateway');
  result(await publishRefused(gw, `logs.${host}.forged`), `gateway's user cannot publish logs.${host}.forged`);
  await gw.close();

  const pub = await as('publisher');
  result(await publishRefused(pub, 'logs.another-host.forged'), "publisher's user cannot publish another host's lines");
  const pjsm = await pub.jetstreamManager({ checkAPI: false });
  result(await rejects(pjsm.streams.getMessage('LOGS', { last_by_subj: `logs.${host}.forged` })), 'no forged line was stored');
  await pub.close();

  result(await rejects(as('reader', { cert: false })), 'a client without a certificate is refused');
  result(await rejects(as('reader', { nkey: false })), 'a client with a certificate and no NKey is refused');
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log(`NOT OK ${e.message}`); process.exit(1); });
