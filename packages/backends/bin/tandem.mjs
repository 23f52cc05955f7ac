#!/usr/bin/env node
// The CLI is TypeScript like the rest of the packages: install tsx's loader, then run it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
