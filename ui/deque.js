// A sorted double-ended array: O(1) amortised removal from the front (the buffer bound),
// O(1) amortised push/unshift, and a merge for batches that arrive out of order.
// Elements live in this.a[this.h .. this.a.length).

export class Deque {
  constructor(cmp) {
    this.cmp = cmp;
    this.a = [];
    this.h = 0;
  }

  get length() { return this.a.length - this.h; }
  at(i) { return this.a[this.h + i]; }
  last() { return this.a.length > this.h ? this.a[this.a.length - 1] : undefined; }
  push(x) { this.a.push(x); }
  pushAll(xs) { const a = this.a; for (let i = 0; i < xs.length; i++) a.push(xs[i]); }

  /** Puts x in front of the first element. */
  unshift(x) {
    if (this.h === 0) {
      const n = this.length;
      const room = Math.max(1024, n);
      const b = new Array(room + n);
      for (let i = 0; i < n; i++) b[room + i] = this.a[i];
      this.a = b;
      this.h = room;
    }
    this.a[--this.h] = x;
  }

  /** Removes the first n elements (fn sees each one) and returns how many were removed. */
  shift(n, fn) {
    n = Math.min(n, this.length);
    const a = this.a;
    const end = this.h + n;
    for (let i = this.h; i < end; i++) { if (fn) fn(a[i]); a[i] = undefined; }
    this.h = end;
    if (this.h === a.length) { this.a = []; this.h = 0; } else if (this.h > 4096 && this.h * 2 > a.length) { this.a = a.slice(this.h); this.h = 0; }
    return n;
  }

  /** Removes and returns up to n elements from the front. */
  take(n) {
    n = Math.min(n, this.length);
    const out = this.a.slice(this.h, this.h + n);
    this.shift(n);
    return out;
  }

  /** Merges a sorted batch in; equal elements keep arrival order. Returns the first index that changed. */
  merge(batch) {
    if (!batch.length) return this.length;
    const a = this.a;
    const cmp = this.cmp;
    if (this.length === 0 || cmp(a[a.length - 1], batch[0]) <= 0) {
      const at = this.length;
      for (let i = 0; i < batch.length; i++) a.push(batch[i]);
      return at;
    }
    let lo = this.h, hi = a.length; // first element greater than batch[0]
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(a[mid], batch[0]) <= 0) lo = mid + 1; else hi = mid; }
    const tail = a.splice(lo);
    let i = 0, j = 0;
    while (i < tail.length && j < batch.length) a.push(cmp(tail[i], batch[j]) <= 0 ? tail[i++] : batch[j++]);
    while (i < tail.length) a.push(tail[i++]);
    while (j < batch.length) a.push(batch[j++]);
    return lo - this.h;
  }

  /** Index of the very element x (binary search by cmp, then identity), or -1. */
  indexOf(x) {
    const a = this.a;
    const cmp = this.cmp;
    let lo = this.h, hi = a.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cmp(a[mid], x) < 0) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < a.length && cmp(a[i], x) === 0; i++) if (a[i] === x) return i - this.h;
    return -1;
  }

  removeAt(i) { this.a.splice(this.h + i, 1); }
  clear() { this.a = []; this.h = 0; }
  forEach(fn) { const a = this.a; for (let i = this.h; i < a.length; i++) fn(a[i], i - this.h); }
  toArray() { return this.a.slice(this.h); }
  some(fn) { const a = this.a; for (let i = this.h; i < a.length; i++) if (fn(a[i])) return true; return false; }
}
