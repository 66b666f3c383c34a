// WebSocket connection to the gateway's /ws with reconnect and exponential backoff.
// It knows nothing about subscriptions: on every (re)open it calls onOpen, and the
// caller re-subscribes (resuming with after_seq).

export class Conn {
  constructor(opts) {
    this.opts = opts; // {url: () => string, onOpen, onClose, onFrame, onStatus}
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.state = 'idle';
    this.retryAt = 0;
    this.reconnects = 0;
    this.stopped = false;
    this.everOpened = false;
  }

  status(state, extra = {}) {
    this.state = state;
    if (this.opts.onStatus) this.opts.onStatus(state, extra);
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws) { try { this.ws.onclose = null; this.ws.close(); } catch (_) { /* ignore */ } }
    let ws;
    try {
      ws = new WebSocket(this.opts.url());
    } catch (e) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.status(this.attempt ? 'reconnecting' : 'connecting', { attempt: this.attempt });
    let opened = false;
    ws.onopen = () => {
      opened = true;
      if (this.everOpened) this.reconnects++;
      this.everOpened = true;
      this.openedAt = Date.now();
      this.status('open');
      if (this.opts.onOpen) this.opts.onOpen();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (_) { return; }
      if (msg && typeof msg === 'object') this.opts.onFrame(msg);
    };
    ws.onerror = () => { /* onclose follows */ };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      // A connection that stayed up for a while resets the backoff.
      if (opened && Date.now() - this.openedAt > 5000) this.attempt = 0;
      if (this.opts.onClose) this.opts.onClose({ opened, code: ev.code, reason: ev.reason });
      if (!this.stopped) this.scheduleRetry();
      else this.status('closed');
    };
  }

  scheduleRetry() {
    clearTimeout(this.timer);
    const base = Math.min(10000, 250 * Math.pow(2, this.attempt));
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.status('waiting', { delay, attempt: this.attempt });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect now (user asked, or token changed). */
  reconnectNow() {
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
  }

  get open() { return !!this.ws && this.ws.readyState === 1; }

  send(obj) {
    if (!this.open) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }
}
