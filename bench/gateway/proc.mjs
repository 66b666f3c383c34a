// bench/gateway/proc.mjs - what idle.mjs and glob.mjs share: starting and stopping the
// servers they run, one command's output, wsload with its `ready` line and result,
// and the /proc readings (CPU ticks, RSS, machine busy time). Not a test; no servers
// of its own.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const CLK_TCK = 100;

/** The processes a benchmark started, each logging to <dir>/<name>.log; stopAll()
 * ends those still running (SIGTERM, then SIGKILL after 5 s). */
export class Procs {
  constructor(dir) {
    this.dir = dir;
    this.live = new Set();
  }

  start(name, cmd, args) {
    const fd = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.live.add(p);
    p.once('exit', () => this.live.delete(p));
    return p;
  }

  async stop(p) {
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  async stopAll() {
    for (const p of [...this.live]) await this.stop(p);
  }

  /**
   * Runs wsload (cmd, e.g. ['prlimit', '--nofile=N:N', WSLOAD] or [WSLOAD]) with args;
   * calls onReady(line, child) at its `ready` line; resolves with its result object
   * (null for a --hold run ended early). The child's stdin is a pipe: ending it ends
   * a --hold run.
   */
  wsload(cmd, args, onReady) {
    return new Promise((resolve, reject) => {
      const p = spawn(cmd[0], [...cmd.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.live.add(p);
      let err = '', result = null;
      p.stderr.on('data', (d) => { err += d; });
      readline.createInterface({ input: p.stdout }).on('line', (l) => {
        if (l.startsWith('ready')) onReady?.(l, p);
        else if (l.startsWith('{')) result = JSON.parse(l);
      });
      // 'close', not 'exit': the result line may still be unread when the process exits
      p.on('close', (code) => {
        this.live.delete(p);
        if (result) resolve({ ...result, stderr: err.slice(0, 1000) });
        else reject(new Error(`wsload exited ${code}: ${err.slice(0, 1000)}`));
      });
    });
  }
}

/** Runs cmd to its end; resolves with its stdout, rejects (with stderr) on a non-zero exit. */
export function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** utime + stime of pid, in clock ticks (CLK_TCK a second). */
export function ticks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

export function rssKB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/** The machine's busy time so far (every CPU, not idle or iowait), in clock ticks. */
export function machineBusy() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4];
}

/** "median [min-max]" of xs with f decimals. */
export function spread(xs, f = 2) {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[Math.floor((s.length - 1) / 2)].toFixed(f)} [${s[0].toFixed(f)}-${s[s.length - 1].toFixed(f)}]`;
}
