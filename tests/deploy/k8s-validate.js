// Validates every YAML document under the given directories as a Kubernetes
// object: parses it, checks apiVersion/kind/metadata, validates it against the
// Kubernetes OpenAPI schema shipped by the npm package kubernetes-models, flags
// field names Kubernetes does not know (the schema check alone lets typos
// through), and cross-checks references between the objects: selectors against
// pod labels, Services against pods and named ports, volume mounts against
// volumes, ConfigMap/Secret references, a StatefulSet's headless Service; and
// against the images: a logjet-* image is one deploy/docker/build-images.sh
// makes, run as the user its Dockerfile names (runAsUser, else the image's);
// and files: an env value or argument that is a path inside a Secret or
// ConfigMap volume names a key that object holds, and a Secret mounted into a
// non-root container is readable by it (its group through fsGroup, mode 0440).
//
// It does not talk to a cluster and does not know about admission policies.
//
// usage: node k8s-validate.js DIR...   (exit 0 when every check passed)
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const models = require('kubernetes-models');

let failures = 0;
let checks = 0;
function ok(cond, what) {
  checks++;
  if (!cond) {
    failures++;
    console.log(`FAIL ${what}`);
  }
  return cond;
}

// Every field name that appears in the Kubernetes schemas.
function knownFieldNames() {
  const names = new Set();
  const dirs = [
    path.dirname(require.resolve('kubernetes-models/package.json')) + '/_schemas',
    path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json')) + '/_schemas',
  ];
  for (const dir of dirs) {
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith('.js')) continue;
      const src = fs.readFileSync(path.join(dir, f), 'utf8');
      for (const m of src.matchAll(/parentDataProperty:"([^"]+)"/g)) names.add(m[1]);
    }
  }
  return names;
}

// Maps whose keys are user data, not field names.
const FREE_MAPS = new Set(['labels', 'annotations', 'data', 'stringData', 'binaryData',
  'matchLabels', 'nodeSelector', 'requests', 'limits', 'selector', 'capacity']);

function unknownFields(obj, known, where, out) {
  if (Array.isArray(obj)) {
    obj.forEach((v, i) => unknownFields(v, known, `${where}[${i}]`, out));
  } else if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) {
      if (!known.has(k)) out.push(`${where}.${k}`);
      // Service.spec.selector is a plain label map; other selectors are LabelSelectors.
      if (FREE_MAPS.has(k) && !(k === 'selector' && v && (v.matchLabels || v.matchExpressions))) continue;
      unknownFields(v, known, `${where}.${k}`, out);
    }
  }
}

function modelClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const ns = group === '' ? models[version]
    : models[group.replace(/\.([a-z])/g, (_, c) => c.toUpperCase()).replace(/\./g, '')];
  const mod = group === '' ? ns : ns && ns[version];
  return mod && mod[kind];
}

function podTemplate(doc) {
  return ['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job'].includes(doc.kind)
    ? doc.spec && doc.spec.template : null;
}

function labelsMatch(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
}

function checkWorkload(doc, id, all) {
  const tpl = podTemplate(doc);
  const labels = (tpl.metadata && tpl.metadata.labels) || {};
  const sel = doc.spec.selector && doc.spec.selector.matchLabels;
  ok(sel && Object.keys(sel).length > 0, `${id}: spec.selector.matchLabels is set`);
  ok(labelsMatch(sel, labels), `${id}: selector matches the pod template labels`);
  const spec = tpl.spec;
  const volumes = new Set((spec.volumes || []).map((v) => v.name));
  for (const t of doc.spec.volumeClaimTemplates || []) volumes.add(t.metadata.name);
  for (const c of [...(spec.initContainers || []), ...spec.containers]) {
    ok(typeof c.image === 'string' && c.image.length > 0, `${id}: container ${c.name} has an image`);
    checkImage(c, spec, id);
    for (const m of c.volumeMounts || []) {
      ok(volumes.has(m.name), `${id}: container ${c.name} mounts declared volume ${m.name}`);
    }
    const portNames = new Set((c.ports || []).map((p) => p.name).filter(Boolean));
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const p = c[probe] && (c[probe].httpGet || c[probe].tcpSocket);
      if (p && typeof p.port === 'string') {
        ok(portNames.has(p.port), `${id}: ${c.name}.${probe} uses declared port ${p.port}`);
      }
    }
    for (const [what, value] of [...(c.env || []).filter((e) => typeof e.value === 'string').map((e) => [`env ${e.name}`, e.value]),
      ...(c.args || []).map((a) => [`argument`, a])]) {
      checkFileRef(c, spec, value, `${id}: ${c.name} ${what}`, all, doc);
    }
    for (const e of c.env || []) {
      const ref = e.valueFrom && (e.valueFrom.configMapKeyRef || e.valueFrom.secretKeyRef);
      if (ref) ok(findObj(all, e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name, doc),
        `${id}: env ${e.name} refers to an existing object ${ref.name}`);
      if (e.name.startsWith('LOGJET_')) {
        ok(/^LOGJET_[A-Z0-9_]+$/.test(e.name), `${id}: env ${e.name} is a LOGJET_<OPTION> name`);
      }
    }
  }
  for (const v of spec.volumes || []) {
    if (v.configMap) ok(findObj(all, 'ConfigMap', v.configMap.name, doc), `${id}: volume ${v.name} ConfigMap ${v.configMap.name} exists`);
    if (v.secret) ok(findObj(all, 'Secret', v.secret.secretName, doc), `${id}: volume ${v.name} Secret ${v.secret.secretName} exists`);
  }
  if (doc.kind === 'StatefulSet') {
    const svc = findObj(all, 'Service', doc.spec.serviceName, doc);
    ok(svc && svc.spec.clusterIP === 'None', `${id}: serviceName ${doc.spec.serviceName} is a headless Service`);
  }
}

// A path value inside a mounted Secret or ConfigMap must be one of its keys (or its
// items' paths); a non-root container must be able to read a mounted Secret.
function checkFileRef(c, podSpec, value, what, all, doc) {
  if (!value.startsWith('/')) return;
  for (const m of c.volumeMounts || []) {
    const dir = m.mountPath.replace(/\/$/, '');
    if (!value.startsWith(dir + '/')) continue;
    const v = (podSpec.volumes || []).find((x) => x.name === m.name);
    const src = v && (v.secret ? { kind: 'Secret', name: v.secret.secretName, vol: v.secret }
      : v.configMap ? { kind: 'ConfigMap', name: v.configMap.name, vol: v.configMap } : null);
    if (!src) return;
    const obj = findObj(all, src.kind, src.name, doc);
    if (!obj) return; // reported with the volume
    const keys = src.vol.items ? src.vol.items.map((i) => i.path)
      : Object.keys({ ...(obj.data || {}), ...(obj.stringData || {}), ...(obj.binaryData || {}) });
    const file = value.slice(dir.length + 1);
    ok(keys.includes(file), `${what}: ${value} is a key of ${src.kind} ${src.name} (it holds ${keys.join(', ')})`);
    if (src.kind === 'Secret') {
      const sc = c.securityContext || {};
      const psc = podSpec.securityContext || {};
      const uid = sc.runAsUser !== undefined ? sc.runAsUser : psc.runAsUser;
      const mode = src.vol.defaultMode === undefined ? 0o644 : src.vol.defaultMode;
      if (uid !== undefined && uid !== 0) {
        ok((mode & 0o004) || ((mode & 0o040) && psc.fsGroup !== undefined),
          `${what}: Secret ${src.name} (mode ${mode.toString(8)}) is readable by uid ${uid} (group-readable needs fsGroup)`);
      }
    }
    return;
  }
}

// The user a Dockerfile's USER line names, as a number ("10001:10001" -> 10001).
function dockerfileUser(name) {
  const f = path.resolve(__dirname, '../../deploy/docker', `Dockerfile.${name}`);
  if (!fs.existsSync(f)) return undefined;
  const m = fs.readFileSync(f, 'utf8').match(/^USER (\d+)(:\d+)?$/m);
  return m ? Number(m[1]) : undefined;
}

function checkImage(c, podSpec, id) {
  const m = /^logjet-([a-z]+)(:[^/]*)?$/.exec(c.image || '');
  if (!m) return;
  const name = m[1];
  if (!ok(['nats', 'publisher', 'gateway'].includes(name) && m[2] === ':latest',
    `${id}: ${c.name} runs an image build-images.sh makes (logjet-{nats,publisher,gateway}:latest), not ${c.image}`)) return;
  const want = dockerfileUser(name);
  const sc = c.securityContext || {};
  const psc = podSpec.securityContext || {};
  const uid = sc.runAsUser !== undefined ? sc.runAsUser : psc.runAsUser;
  ok(want !== undefined, `${id}: deploy/docker/Dockerfile.${name} names a numeric USER`);
  ok(uid === undefined || uid === want, `${id}: ${c.name} runs as uid ${uid}, the image's user is ${want}`);
  if (want !== 0 && psc.fsGroup !== undefined) {
    ok(psc.fsGroup === want, `${id}: fsGroup ${psc.fsGroup} is the image user's group ${want}`);
  }
}

function findObj(all, kind, name, near) {
  const ns = near.metadata.namespace;
  return all.find((d) => d.kind === kind && d.metadata.name === name && d.metadata.namespace === ns);
}

function checkService(doc, id, all) {
  const pods = all.filter((d) => podTemplate(d) && d.metadata.namespace === doc.metadata.namespace)
    .filter((d) => labelsMatch(doc.spec.selector, podTemplate(d).metadata.labels));
  if (!ok(pods.length > 0, `${id}: selector matches a workload's pods`)) return;
  const ports = new Set(pods.flatMap((d) => podTemplate(d).spec.containers)
    .flatMap((c) => c.ports || []).flatMap((p) => [p.name, p.containerPort]));
  for (const p of doc.spec.ports || []) {
    const target = p.targetPort === undefined ? p.port : p.targetPort;
    ok(ports.has(target), `${id}: port ${p.name || p.port} targets a declared container port (${target})`);
  }
}

function main() {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error('usage: node k8s-validate.js DIR...');
    process.exit(2);
  }
  const known = knownFieldNames();
  const all = [];
  for (const dir of dirs) {
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
    ok(files.length > 0, `${dir}: holds YAML files`);
    for (const f of files) {
      const file = path.join(dir, f);
      let docs;
      try {
        docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d !== null);
      } catch (e) {
        ok(false, `${file}: parses as YAML (${e.message.split('\n')[0]})`);
        continue;
      }
      ok(docs.length > 0, `${file}: holds at least one document`);
      docs.forEach((d, i) => all.push(Object.assign(d, { __where: `${file}#${i + 1}` })));
    }
  }
  for (const doc of all) {
    const where = doc.__where;
    delete doc.__where;
    const id = `${where} ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    if (!ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string', `${where}: has apiVersion and kind`)) continue;
    if (!ok(doc.metadata && typeof doc.metadata.name === 'string', `${where}: has metadata.name`)) continue;
    ok(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(doc.metadata.name), `${id}: name is a DNS label`);
    ok(doc.kind === 'Namespace' || doc.metadata.namespace === 'logjet', `${id}: lives in namespace logjet`);
    const Model = modelClass(doc.apiVersion, doc.kind);
    if (ok(Model, `${id}: ${doc.apiVersion} ${doc.kind} is a known Kubernetes type`)) {
      try {
        new Model(doc).validate();
        ok(true, `${id}: schema`);
      } catch (e) {
        ok(false, `${id}: schema: ${e.message}`);
      }
    }
    const unknown = [];
    unknownFields(doc, known, '', unknown);
    ok(unknown.length === 0, `${id}: no unknown fields (${unknown.join(', ')})`);
    if (podTemplate(doc)) checkWorkload(doc, id, all);
    if (doc.kind === 'Service') checkService(doc, id, all);
  }
  console.log(`k8s-validate: ${all.length} objects, ${checks} checks, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main();
