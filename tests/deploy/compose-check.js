// Checks what logjet needs from a compose file, beyond what docker-compose
// config validates: the three services, host networking, the Docker socket
// mounted read-only into the publisher, images built from our Dockerfiles,
// and LOGJET_* variables only.
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
  const build = svc.build || {};
  const df = path.resolve(path.dirname(file), build.context || '.', build.dockerfile || 'Dockerfile');
  need(fs.existsSync(df), `${name} Dockerfile ${df} exists`);
  for (const k of Object.keys(svc.environment || {})) need(/^LOGJET_[A-Z0-9_]+$/.test(k), `${name} env ${k} is LOGJET_*`);
  need(svc.healthcheck && svc.healthcheck.test, `${name} has a healthcheck`);
}
const vols = (s.publisher && s.publisher.volumes) || [];
need(vols.includes('/var/run/docker.sock:/var/run/docker.sock:ro'), 'publisher mounts the Docker socket read-only');
for (const name of ['publisher', 'gateway']) {
  const dep = s[name] && s[name].depends_on;
  need(dep && dep.nats, `${name} depends on nats`);
}
need(!(s.gateway && s.gateway.environment && /^0\.0\.0\.0:|^\[::\]:/.test(s.gateway.environment.LOGJET_LISTEN || '')) ||
  (s.gateway.environment.LOGJET_AUTH_TOKENS), 'gateway listens on loopback or has auth tokens');

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`compose-check: ${file}: ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
