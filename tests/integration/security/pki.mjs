// pki.mjs - what the security tests authenticate with, made fresh for every run:
// certificates (openssl: a CA, a server certificate for localhost only, a client
// certificate, and a second CA nobody trusts), NKeys (nkeys.js through nats.js) and,
// for an operator-mode nats-server, the operator, account and user JWTs and creds files.
// Nothing here is a fixture: no key is ever committed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { nkeys } from 'nats';
import { run } from '../../lib/harness.mjs';

async function openssl(args, cwd) {
  const r = await run('openssl', args, { cwd });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

async function ca(dir, name) {
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

async function leaf(dir, name, caName, ext) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}-key.pem`,
    '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

/** Makes ca, server (DNS:localhost only), client, wrongname (a server certificate for
 *  another name) and other-ca in dir; returns the paths. */
export async function makePki(dir) {
  fs.mkdirSync(dir, { recursive: true });
  await ca(dir, 'ca');
  await ca(dir, 'other-ca');
  await leaf(dir, 'server', 'ca', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  await leaf(dir, 'wrongname', 'ca', 'subjectAltName=DNS:logjet-elsewhere.invalid\nextendedKeyUsage=serverAuth\n');
  const p = (f) => path.join(dir, f);
  return {
    ca: p('ca.pem'), otherCa: p('other-ca.pem'),
    serverCert: p('server.pem'), serverKey: p('server-key.pem'),
    clientCert: p('client.pem'), clientKey: p('client-key.pem'),
    wrongNameCert: p('wrongname.pem'), wrongNameKey: p('wrongname-key.pem'),
  };
}

/** A random password-like secret that is easy to grep for. */
export function secret(tag) {
  return `${tag}-${crypto.randomBytes(12).toString('hex')}`;
}

const dec = new TextDecoder();
const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Signs claims as a NATS JWT (ed25519-nkey) with the key pair kp of the issuer. */
function jwt(kp, claims) {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const body = { jti: crypto.randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000),
    iss: kp.getPublicKey(), ...claims };
  const payload = b64url(JSON.stringify(body));
  const sig = kp.sign(new TextEncoder().encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64url(sig)}`;
}

/** A user NKey pair: {seed (string), pub}. */
export function userKey() {
  const kp = nkeys.createUser();
  return { kp, seed: dec.decode(kp.getSeed()), pub: kp.getPublicKey() };
}

/**
 * An operator with one account LOGJET (JetStream on). Returns the nats-server config
 * lines for a MEMORY resolver and a function that writes a creds file for a user with
 * the given permissions ({pub: {allow: []}, sub: {allow: []}}) and optional expiry
 * (unix seconds), signed by this account or, with other: true, by an account the
 * server does not know.
 */
export function operator() {
  const op = nkeys.createOperator();
  const acc = nkeys.createAccount();
  const stranger = nkeys.createAccount();
  const opJwt = jwt(op, { sub: op.getPublicKey(), name: 'logjet-test-operator', nats: { type: 'operator', version: 2 } });
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1,
    mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const accJwt = jwt(op, { sub: acc.getPublicKey(), name: 'LOGJET', nats: { limits, type: 'account', version: 2 } });
  // JetStream needs a system account in operator mode.
  const sys = nkeys.createAccount();
  const sysJwt = jwt(op, { sub: sys.getPublicKey(), name: 'SYS',
    nats: { limits: { ...limits, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 }, type: 'account', version: 2 } });
  const config = `operator: ${opJwt}\nsystem_account: ${sys.getPublicKey()}\nresolver: MEMORY\n`
    + `resolver_preload: {\n  ${acc.getPublicKey()}: ${accJwt}\n  ${sys.getPublicKey()}: ${sysJwt}\n}\n`;
  const creds = (file, name, permissions, { exp, other } = {}) => {
    const u = userKey();
    const claims = { sub: u.pub, name, nats: { ...permissions, subs: -1, data: -1, payload: -1, type: 'user', version: 2 } };
    if (exp) claims.exp = exp;
    const userJwt = jwt(other ? stranger : acc, claims);
    fs.writeFileSync(file, `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n`
      + '************************* IMPORTANT *************************\n'
      + 'NKEY Seed printed below can be used to sign and prove identity.\n\n'
      + `-----BEGIN USER NKEY SEED-----\n${u.seed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
    return { seed: u.seed, jwt: userJwt };
  };
  return { config, creds };
}
