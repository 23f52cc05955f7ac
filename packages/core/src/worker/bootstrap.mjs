// Plain JS on purpose: it starts in a fresh thread or process before any TypeScript loader exists
// there (Node 20 does not carry a parent's tsx loader into worker threads even when the flags
// are inherited), so it installs tsx's loader itself; the runtime and users' `.ts` task modules
// then load as they are.
const { register } = await import('tsx/esm/api');
register();
await import('./runtime.ts');
