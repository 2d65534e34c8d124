// Seeded pseudo-random numbers for the telecom data generator.
// mulberry32 (32-bit state, fast, good enough for sampling templates) plus
// helpers. Everything here is deterministic: the same seed gives the same
// sequence on every platform and Node version (only integer math and
// Math.imul are used; no Math.random, no Date).

/** FNV-1a 32-bit hash of a string: turns (seed, stream name) into a seed. */
export function hashString(str) {
  let h = 0x811c9dc5;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Independent stream for a purpose ("train", "eval", "general") of one seed. */
export function deriveSeed(seed, stream) {
  return hashString(`${seed}:${stream}`);
}

export function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }

  /** Float in [0, 1). */
  float() {
    return this.next();
  }

  /** Integer in [lo, hi], both ends included. */
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p) {
    return this.next() < p;
  }

  pick(arr) {
    if (!arr.length) throw new Error('pick from an empty list');
    return arr[Math.floor(this.next() * arr.length)];
  }

  /** items: [[weight, value], ...] */
  weighted(items) {
    let total = 0;
    for (const [w] of items) total += w;
    let x = this.next() * total;
    for (const [w, v] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1][1];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle(arr) {
    const a = arr.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  /** k distinct elements, in random order. */
  sample(arr, k) {
    return this.shuffle(arr).slice(0, k);
  }

  /** A string of n random decimal digits (the first may be 0). */
  digits(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(this.next() * 10));
    return s;
  }

  /** A money amount in [lo, hi] dollars, as a number with cents. */
  amount(lo, hi) {
    const cents = this.int(Math.round(lo * 100), Math.round(hi * 100));
    return cents / 100;
  }
}

/** "$12.30" (two decimals always). */
export function money(x) {
  const [whole, cents] = x.toFixed(2).split('.');
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
