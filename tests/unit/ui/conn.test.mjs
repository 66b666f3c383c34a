// Unit tests of ui/conn.js over a stand-in WebSocket (the browser's API, no network):
// open, frames, reconnect with a growing jittered backoff that resets after a stable
// connection, and sends refused while closed.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Conn } from '../../../ui/conn.js';

class FakeWS {
  static all = [];
  constructor(url) { this.url = url; this.readyState = 0; this.sent = []; FakeWS.all.push(this); }
  open() { this.readyState = 1; this.onopen(); }
  recv(data) { this.onmessage({ data }); }
  drop(code = 1006) { this.readyState = 3; this.onclose({ code, reason: '' }); }
  send(s) { this.sent.push(s); }
  close() { this.readyState = 3; if (this.onclose) this.onclose({ code: 1000, reason: '' }); }
}

test('frames, reconnects and backoff', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  globalThis.WebSocket = FakeWS;
  FakeWS.all = [];
  try {
    const ev = { open: 0, frames: [], closes: [], status: [] };
    const c = new Conn({
      url: () => 'ws://x/ws', onOpen: () => ev.open++, onFrame: (m) => ev.frames.push(m),
      onClose: (i) => ev.closes.push(i), onStatus: (s, extra) => ev.status.push([s, extra]),
    });
    c.connect();
    assert.equal(c.send({ a: 1 }), false, 'nothing is sent before the socket opens');
    FakeWS.all[0].open();
    assert.equal(ev.open, 1);
    assert.equal(c.send({ a: 1 }), true);
    assert.deepEqual(FakeWS.all[0].sent, ['{"a":1}']);
    FakeWS.all[0].recv('{"type":"hello"}');
    FakeWS.all[0].recv('not json');
    FakeWS.all[0].recv('42');
    FakeWS.all[0].recv(new ArrayBuffer(2));
    assert.deepEqual(ev.frames, [{ type: 'hello' }], 'only JSON objects reach onFrame');
    // drops before 5 s of uptime: each wait at most doubles, within [base/2, base]
    const delays = [];
    for (let k = 0; k < 8; k++) {
      FakeWS.all[FakeWS.all.length - 1].drop();
      const [state, extra] = ev.status[ev.status.length - 1];
      assert.equal(state, 'waiting');
      const base = Math.min(10000, 250 * 2 ** k);
      assert.ok(extra.delay >= base / 2 && extra.delay <= base, `attempt ${k}: ${extra.delay} in [${base / 2}, ${base}]`);
      delays.push(extra.delay);
      mock.timers.tick(extra.delay);
      assert.equal(FakeWS.all.length, k + 2, 'a new socket after the wait');
      if (k < 7) FakeWS.all[FakeWS.all.length - 1].open();
    }
    assert.equal(c.reconnects, 7);
    // a connection that stayed up for a while starts the backoff again
    FakeWS.all[FakeWS.all.length - 1].open();
    mock.timers.tick(6000);
    FakeWS.all[FakeWS.all.length - 1].drop();
    const [, extra] = ev.status[ev.status.length - 1];
    assert.ok(extra.delay <= 250, `backoff reset: ${extra.delay}`);
    c.stop();
    mock.timers.tick(20000);
    const n = FakeWS.all.length;
    mock.timers.tick(20000);
    assert.equal(FakeWS.all.length, n, 'stopped: no more sockets');
  } finally {
    mock.timers.reset();
    delete globalThis.WebSocket;
  }
});
