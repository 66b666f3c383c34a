// Acceptance 6: lines with terminal escape sequences cannot change the terminal's title,
// move the cursor, clear the screen or query the terminal; colour passes on a terminal
// only, and -o json keeps every byte (escaped).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { stored } from '../gateway/client.mjs';
import { tailRun, tailPty, jsonLines } from './lib.mjs';

// busybox printf: \033 ESC, \007 BEL, \233 the 8-bit CSI, \302\233 its UTF-8 form.
const HOSTILE = [
  'title\\033]0;PWNED\\007end',            // OSC 0: window title
  'title2\\033]2;PWNED\\033\\\\end',       // OSC 2 with ST
  'cursor\\033[10;1H\\033[2J\\033[Kend',   // cursor position, clear screen, erase line
  'up\\033[3A\\033[1000Dend',              // cursor up, far left
  'query\\033[6n\\033[c\\033]11;?\\007end', // cursor report, device attributes, colour query
  'altscreen\\033[?1049h\\033[?25lend',     // alternate screen, hide cursor
  'dcs\\033Pq#0;2;0;0;0\\033\\\\end',      // DCS (sixel)
  'c1\\233' + '2Jmid\\302\\233' + '2Jend',  // 8-bit CSI, raw and as UTF-8
  'cr\\roverwrite\\bback',                 // carriage return, backspace
  'colour \\033[1;31mred\\033[0m ok',      // SGR: allowed on a terminal
];

let s, c;
before(async () => {
  s = await Stack.start({ publisher: true });
  c = await s.run('hostile', HOSTILE.map((l) => `printf '${l}\\n'`).join('; '));
  await stored(s, c.name, HOSTILE.length);
});
after(async () => { if (s) await s.stop(); });

/** Every escape sequence in bytes, as strings. */
function escapes(buf) {
  return [...buf.toString('latin1').matchAll(/\x1b(\[[0-9;:?]*[ -/]*[@-~]|.)/g)].map((m) => m[0]);
}

test('on a terminal only SGR colour survives; nothing else can reach the terminal', async () => {
  const r = await tailPty(s, ['--no-follow', '--tail', 'all', '-o', 'raw', `*/${c.name}`]);
  const bytes = r.out;
  for (const e of escapes(bytes)) assert.match(e, /^\x1b\[[0-9;]*m$/, `escape ${JSON.stringify(e)} reached the terminal`);
  assert.ok(!bytes.includes(0x07), 'BEL');
  assert.ok(!bytes.includes(0x9b) && !bytes.includes(Buffer.from([0xc2, 0x9b])), '8-bit CSI');
  assert.ok(!bytes.includes(0x08), 'backspace');
  const text = bytes.toString().replace(/\r\n/g, '\n');
  assert.ok(!text.includes('\r'), 'carriage return');
  const lines = text.split('\n').filter(Boolean);
  assert.equal(lines.length, HOSTILE.length);
  assert.equal(lines[0], 'titleend');
  assert.equal(lines[2], 'cursorend');
  assert.equal(lines[8], 'cr^Moverwrite^Hback');
  assert.equal(lines[9], 'colour \x1b[1;31mred\x1b[0m ok\x1b[0m');
  assert.ok(!text.includes('PWNED'));
});

test('piped: no escape sequence at all (unless --ansi keep, colour only)', async () => {
  const r = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'raw', `*/${c.name}`], { encoding: 'buffer' });
  assert.ok(!r.stdout.includes('\x1b'));
  assert.equal(r.stdout.split('\n')[9], 'colour red ok');
  const k = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'raw', '--ansi', 'keep', `*/${c.name}`]);
  for (const e of escapes(Buffer.from(k.stdout))) assert.match(e, /^\x1b\[[0-9;]*m$/);
  assert.equal(k.stdout.split('\n')[9], 'colour \x1b[1;31mred\x1b[0m ok\x1b[0m');
});

test('-o json keeps the line exactly (as JSON escapes)', async () => {
  const r = await tailRun(s, ['--no-follow', '--tail', 'all', '-o', 'json', `*/${c.name}`]);
  assert.ok(!r.stdout.includes('\x1b'));
  const out = jsonLines(r.stdout);
  const recs = await s.records(c.name);
  assert.deepEqual(out.map((o) => o.line), recs.map((x) => x.line.toString('utf8')));
  assert.equal(out[0].line, 'title\x1b]0;PWNED\x07end');
});
