import { describe, expect, it } from 'vitest';
import { addressKey, connectionCap, isLoopback } from '../../lib/remote-address.js';

describe('addressKey', () => {
  it('counts an IPv4 address, mapped or not, as itself', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0db8:0000:0001:ffff:0:0:9')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.7')).toBe('64:ff9b:0:0::/64');
  });

  it('has no key without an address', () => {
    expect(addressKey(undefined)).toBeUndefined();
    expect(addressKey('')).toBeUndefined();
  });
});

describe('isLoopback', () => {
  it('knows loopback in IPv4, IPv6 and IPv4 mapped into IPv6, and nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.9']) expect(isLoopback(a)).toBe(true);
    for (const a of ['192.0.2.7', '::2', '2001:db8::1', '::ffff:192.0.2.1', undefined, '']) expect(isLoopback(a)).toBe(false);
  });
});

describe('connectionCap', () => {
  it('counts per address, refuses beyond the cap, frees a slot once, and lets loopback and unknown peers pass uncounted', () => {
    const cap = connectionCap(2, true);
    const a = cap.admit('192.0.2.7').release;
    const b = cap.admit('192.0.2.7').release;
    expect(cap.admit('192.0.2.7').release).toBeNull();
    // another address has its own count
    expect(cap.admit('198.51.100.1').release).not.toBeNull();
    a?.();
    a?.();
    expect(cap.admit('192.0.2.7').release).not.toBeNull();
    expect(cap.admit('192.0.2.7').release).toBeNull();
    b?.();
    for (let i = 0; i < 5; i++) expect(cap.admit('127.0.0.1').release).not.toBeNull();
    expect(cap.admit(undefined).release).not.toBeNull();
    const strict = connectionCap(1, false);
    expect(strict.admit('127.0.0.1').release).not.toBeNull();
    expect(strict.admit('127.0.0.1').release).toBeNull();
    expect(connectionCap(0, false).admit('192.0.2.7').release).not.toBeNull();
  });

  it('returns the address key the connection counts against, admitted, refused or exempt', () => {
    const cap = connectionCap(1, true);
    expect(cap.admit('2001:db8:0:1::5').address).toBe('2001:db8:0:1::/64');
    expect(cap.admit('2001:db8:0:1::6')).toEqual({ address: '2001:db8:0:1::/64', release: null });
    expect(cap.admit('::ffff:127.0.0.1').address).toBe('127.0.0.1');
    expect(cap.admit(undefined).address).toBeUndefined();
  });
});
