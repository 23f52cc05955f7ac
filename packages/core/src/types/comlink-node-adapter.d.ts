// comlink ships this adapter's types beside an .mjs file that TypeScript's NodeNext resolution won't pair with it.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: unknown[]): void;
    on(type: string, listener: (message: unknown) => void): unknown;
    off(type: string, listener: (message: unknown) => void): unknown;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
