// nginx.mjs - a real reverse proxy for the single sign-on tests: Debian's nginx,
// bound to loopback on a free port, authenticating people with HTTP basic auth (the
// simplest authenticator nginx has built in; Authelia or oauth2-proxy play this part
// in production) and passing the user on to the gateway in a header it sets itself
// (replacing whatever the client sent). It connects to the gateway from `bindAddr`,
// so tests can tell the proxy's address from a client's. Stopped by PID.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, waitFor } from './harness.mjs';

/**
 * Starts nginx in front of 127.0.0.1:gatewayPort. users: {name: password}.
 * opts: {header: 'Remote-User', bindAddr: '127.0.0.3'}. Resolves {port, url, stop()}.
 */
export async function startNginx(dir, gatewayPort, users, opts = {}) {
  const header = opts.header || 'Remote-User';
  const bindAddr = opts.bindAddr || '127.0.0.3';
  const port = await freePort();
  const root = path.join(dir, `nginx-${port}`);
  fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
  fs.writeFileSync(path.join(root, 'htpasswd'),
    Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}\n`).join(''));
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${root}/access.log;
  client_body_temp_path ${root}/tmp/body;
  proxy_temp_path ${root}/tmp/proxy;
  fastcgi_temp_path ${root}/tmp/fastcgi;
  uwsgi_temp_path ${root}/tmp/uwsgi;
  scgi_temp_path ${root}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_basic "logjet";
      auth_basic_user_file ${root}/htpasswd;
      proxy_pass http://127.0.0.1:${gatewayPort};
      proxy_bind ${bindAddr};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header ${header} $remote_user;
      proxy_set_header Authorization "";
      proxy_read_timeout 1h;
    }
  }
}
`;
  const confPath = path.join(root, 'nginx.conf');
  fs.writeFileSync(confPath, conf);
  const child = spawn('nginx', ['-p', root, '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = once(child, 'exit');
  let gone = false;
  exited.then(() => { gone = true; });
  await waitFor(() => {
    if (gone) throw new Error(`nginx exited: ${stderr}`);
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
  }, 10000, 'nginx listening');
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    accessLog: () => fs.readFileSync(path.join(root, 'access.log'), 'utf8'),
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
