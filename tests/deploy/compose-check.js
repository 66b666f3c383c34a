// Checks what logjet needs from a compose file, beyond what docker-compose
// config validates: the three services, host networking, the Docker socket
// mounted read-only into the publisher, the images deploy/docker/build-images.sh
// makes (logjet-NAME, from deploy/docker/Dockerfile.NAME, no build: section),
// health checks run with the images' busybox (their only program that can
// probe), and LOGJET_* variables only.
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
  for (const k of Object.keys(svc.environment || {})) need(/^LOGJET_[A-Z0-9_]+$/.test(k), `${name} env ${k} is LOGJET_*`);
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

for (const p of problems) console.log(`FAIL ${p}`);
console.log(`compose-check: ${file}: ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
