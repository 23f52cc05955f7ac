import { describe, expect, it } from 'vitest';
import { ArgumentError, Tandem, registerErrorClass } from '../src/index.ts';
import { QuotaError, Unregistered } from './fixtures/throwers.ts';
import { workerKinds } from './helpers.ts';

const throwers = new URL('./fixtures/throwers.ts', import.meta.url);
registerErrorClass(QuotaError);

describe.each(workerKinds)('errors keep their class across %s workers', (workerKind) => {
  const caught = async (name: string, args: unknown[] = []) => {
    await using td = await Tandem.create({ backends: [], workers: 1, workerKind });
    return td.run(throwers, name, args).then(() => expect.fail(`${name} should have thrown`), (e: unknown) => e as Error);
  };

  it('a registered class of the user arrives as that class, with its own properties', async () => {
    const e = await caught('throwQuota', [5]);
    expect(e).toBeInstanceOf(QuotaError);
    expect(e).toMatchObject({ name: 'QuotaError', message: 'over quota of 5', limit: 5 });
    expect(e.stack).toMatch(/throwQuota/);
  });

  it('an unregistered class arrives as its nearest built-in ancestor, its name kept', async () => {
    const e = await caught('throwUnregistered');
    expect(e).toBeInstanceOf(TypeError);
    expect(e).not.toBeInstanceOf(Unregistered);
    expect(e).toMatchObject({ name: 'Unregistered', message: 'nobody registered me' });
  });

  it('an AggregateError keeps its class and its errors, each with its own class', async () => {
    const e = await caught('throwAggregate') as AggregateError;
    expect(e).toBeInstanceOf(AggregateError);
    expect(e.message).toBe('several things failed');
    expect(e.errors).toHaveLength(3);
    expect(e.errors[0]).toBeInstanceOf(RangeError);
    expect(e.errors[1]).toBeInstanceOf(QuotaError);
    expect(e.errors[1]).toMatchObject({ message: 'second', limit: 2 });
    expect(e.errors[2]).toBe('a string');
  });

  it('a DOMException keeps its class, name and code', async () => {
    const e = await caught('throwDomException') as DOMException;
    expect(e).toBeInstanceOf(DOMException);
    expect(e.name).toBe('AbortError');
    expect(e.code).toBe(DOMException.ABORT_ERR);
    expect(e.message).toBe('the operation was aborted');
  });

  it('a cause keeps its class too', async () => {
    const e = await caught('throwWithCause');
    expect(e.message).toBe('outer');
    expect(e.cause).toBeInstanceOf(QuotaError);
  });
});

describe('registerErrorClass', () => {
  it('refuses what is not an Error class, naming the argument', () => {
    expect(() => registerErrorClass(class NotAnError {} as never)).toThrow(ArgumentError);
    expect(() => registerErrorClass(42 as never)).toThrow(/errorClass: expected a class that extends Error/);
    expect(() => registerErrorClass(QuotaError, '')).toThrow(/name: expected/);
  });
});
