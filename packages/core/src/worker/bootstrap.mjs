// Plain JS on purpose: it starts in a fresh thread or process before any TypeScript loader exists
// there (Node 20 does not carry a parent's tsx loader into worker threads even when the flags
// are inherited). Built packages run their compiled runtime; tsx's loader, where installed, is
// registered either way, so that users' `.ts` task modules load as they are.
import { existsSync } from 'node:fs';

const tsx = await import('tsx/esm/api').catch(() => undefined);
tsx?.register();
const compiled = new URL('./runtime.js', import.meta.url);
await import(existsSync(compiled) ? compiled.href : new URL('./runtime.ts', import.meta.url).href);
