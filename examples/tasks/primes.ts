/**
 * Task functions for the quickstart: each call runs in a worker, with its arguments spread.
 */

// Odd primes up to `baseLimit`, kept between calls: every chunk of one job needs the same ones.
let basePrimes: number[] = [];
let baseLimit = 0;

function oddPrimesUpTo(limit: number): number[] {
  if (limit <= baseLimit) return basePrimes;
  const composite = new Uint8Array(limit + 1);
  const primes: number[] = [];
  for (let n = 3; n <= limit; n += 2) {
    if (composite[n]) continue;
    primes.push(n);
    for (let m = n * n; m <= limit; m += 2 * n) composite[m] = 1;
  }
  basePrimes = primes;
  baseLimit = limit;
  return primes;
}

/** Counts the primes in [lo, hi) with a segmented sieve of Eratosthenes over the odd numbers. */
export function countPrimes(lo: number, hi: number): number {
  let count = lo <= 2 && 2 < hi ? 1 : 0;
  const start = Math.max(lo, 3);
  const first = start % 2 === 0 ? start + 1 : start; // the first odd candidate ≥ lo (not `| 1`: ranges pass 2^31)
  if (first >= hi) return count;
  const size = Math.floor((hi - 1 - first) / 2) + 1; // odd numbers in [first, hi); slot i is first + 2i
  const composite = new Uint8Array(size);
  for (const p of oddPrimesUpTo(Math.floor(Math.sqrt(hi - 1)))) {
    let m = Math.max(p * p, Math.ceil(first / p) * p);
    if (m % 2 === 0) m += p; // even multiples aren't in the sieve
    for (let i = (m - first) / 2; i < size; i += p) composite[i] = 1;
  }
  for (let i = 0; i < size; i++) if (composite[i] === 0) count++;
  return count;
}
