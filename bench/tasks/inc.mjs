// Tiny task for Piscina (default export; the task value is the argument) and the raw loop.
export default function inc(x) {
  return x + 1;
}
