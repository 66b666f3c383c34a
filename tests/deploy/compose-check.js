// Checks what logjet needs from a compose file, beyond what docker-compose
// config validates: the three services, host networking, the Docker socket
// mounted read-only into the publisher, the images deploy/docker/build-images.sh
// makes (logjet-NAME, from deploy/docker/Dockerfile.NAME, no build: section),
// health checks run with the images' busybox (their only program that can
// probe), and LOGJET_* variables only (nats: its config's NATS_TLS_* paths and the health
// check's NATS_MONITOR_ADDR).
// Secrets: no password, token or credentials in an environment value or URL;
// every variable naming a key, certificate, seed or credentials file points at
// /run/secrets/<name> of a secret the service mounts and the file declares; a
// file that declares secrets is the secured variant and must use them: the
// daemons on tls:// with a client certificate and an NKey or creds file, the
// gateway serving TLS.
//
// usage: node compose-check.js FILE   (exit 0 when every check passed)
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const file = process.argv[2];
const doc = yaml.load(fs.readFileSync(file, 'utf8'));
const problems = [];
const need = (cond, what) => { if (!cond) problems.push(what); };

need(doc && doc.services, 'has services');
const s = (doc && doc.services) || {};
for (const name of ['nats', 'publisher', 'gateway']) {
  const svc = s[name];
  if (!svc) { problems.push(`service ${name} exists`); continue; }
  need(svc.network_mode === 'host', `${name} uses host networking`);
  need(svc.image === `logjet-${name}:\${TAG:-latest}`, `${name} runs logjet-${name}:\${TAG:-latest} (it is ${svc.image})`);
  need(!svc.build, `${name} has no build: section (build-images.sh makes the image)`);
  const df = path.resolve(__dirname, '../../deploy/docker', `Dockerfile.${name}`);
  need(fs.existsSync(df), `${name} Dockerfile ${df} exists`);
  for (const k of Object.keys(svc.environment || {})) {
    need(/^LOGJET_[A-Z0-9_]+$/.test(k) || (name === 'nats' && /^NATS_(TLS_(CERT|KEY|CA)|MONITOR_ADDR)$/.test(k)), `${name} env ${k} is LOGJET_*`);
  }
  const test = svc.healthcheck && svc.healthcheck.test;
  need(Array.isArray(test) && test[0] === 'CMD' && test[1] === '/usr/bin/busybox',
       `${name} has a healthcheck run with /usr/bin/busybox`);
}
const vols = (s.publisher && s.publisher.volumes) || [];
need(vols.some(v => /^(\/var\/run\/docker\.sock|\$\{DOCKER_SOCKET:-\/var\/run\/docker\.sock\}):\/var\/run\/docker\.sock:ro$/.test(v)),
     'publisher mounts the Docker socket read-only');
for (const name of ['publisher', 'gateway']) {
  const dep = s[name] && s[name].depends_on;
  need(dep && dep.nats, `${name} depends on nats`);
}
need(!(s.gateway && s.gateway.environment && /^0\.0\.0\.0:|^\[::\]:/.test(s.gateway.environment.LOGJET_LISTEN || '')) ||
  (s.gateway.environment.LOGJET_AUTH_TOKENS), 'gateway listens on loopback or has auth tokens');

// Secrets.
const declared = (doc && doc.secrets) || {};
const FILE_VARS = /^(LOGJET_NATS_(CREDS|NKEY|CA|CERT|KEY)|LOGJET_TLS_(CERT|KEY)|LOGJET_[A-Z_]+_FILE|NATS_TLS_(CERT|KEY|CA))$/;
for (const [name, svc] of Object.entries(s)) {
  const env = svc.environment || {};
  const mounted = new Set((svc.secrets || []).map((x) => (typeof x === 'string' ? x : x.target || x.source)));
  for (const x of svc.secrets || []) {
    const src = typeof x === 'string' ? x : x.source;
    need(declared[src] && declared[src].file, `${name} secret ${src} is declared with a file`);
  }
  for (const [k, v] of Object.entries(env)) {
    need(!/^LOGJET_NATS_(PASSWORD|TOKEN)$/.test(k), `${name} env ${k}: a secret as a value (use the _FILE variable)`);
    need(!/^[a-z]+:\/\/[^/]*@/.test(String(v)), `${name} env ${k}: credentials in a URL`);
    if (FILE_VARS.test(k) && String(v).startsWith('/run/secrets/')) {
      need(mounted.has(String(v).slice('/run/secrets/'.length)), `${name} env ${k}=${v} is a secret the service mounts`);
    } else if (FILE_VARS.test(k) && Object.keys(declared).length) {
      need(false, `${name} env ${k}=${v} is under /run/secrets`);
    }
  }
}
if (Object.keys(declared).length) {
  const used = new Set(Object.values(s).flatMap((svc) => (svc.secrets || []).map((x) => (typeof x === 'string' ? x : x.source))));
  for (const k of Object.keys(declared)) need(used.has(k), `secret ${k} is used by a service`);
  for (const name of ['publisher', 'gateway']) {
    const env = (s[name] && s[name].environment) || {};
    need(/^tls:\/\//.test(env.LOGJET_NATS_URL || ''), `${name} connects to NATS over tls:// (it is ${env.LOGJET_NATS_URL})`);
    need(env.LOGJET_NATS_CA && env.LOGJET_NATS_CERT && env.LOGJET_NATS_KEY, `${name} has a CA and a client certificate for NATS`);
    need(env.LOGJET_NATS_NKEY || env.LOGJET_NATS_CREDS, `${name} authenticates to NATS with an NKey or a creds file`);
  }
  const genv = (s.gateway && s.gateway.environment) || {};
  need(genv.LOGJET_TLS_CERT && genv.LOGJET_TLS_KEY, 'gateway serves TLS (LOGJET_TLS_CERT and LOGJET_TLS_KEY)');
}

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`compose-check: ${file}: ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
