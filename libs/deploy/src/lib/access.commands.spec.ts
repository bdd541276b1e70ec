import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { generatePassword, pemKeystore } from './access.commands';

describe('edgectl tls pem-keystore', () => {
  // A PKCS#1 RSA key and certificate, the form Helm's genSignedCert writes.
  const dir = mkdtempSync(path.join(tmpdir(), 'pem-'));
  execFileSync('openssl', ['genrsa', '-traditional', '-out', path.join(dir, 'k.pem'), '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-key', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=kafka'], { stdio: 'ignore' });
  const key = readFileSync(path.join(dir, 'k.pem'), 'utf8');
  const cert = readFileSync(path.join(dir, 'c.pem'), 'utf8');

  it('turns a PKCS#1 key into PKCS#8 followed by the certificate', () => {
    expect(key).toContain('BEGIN RSA PRIVATE KEY');
    const out = pemKeystore(key, cert);
    expect(out).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----/);
    const inner = out.slice(0, out.indexOf('-----BEGIN CERTIFICATE-----'));
    expect(createPrivateKey(inner).export({ type: 'pkcs1', format: 'pem' })).toEqual(createPrivateKey(key).export({ type: 'pkcs1', format: 'pem' }));
  });

  it('refuses a key that does not belong to the certificate', () => {
    execFileSync('openssl', ['genrsa', '-out', path.join(dir, 'other.pem'), '2048'], { stdio: 'ignore' });
    expect(() => pemKeystore(readFileSync(path.join(dir, 'other.pem'), 'utf8'), cert)).toThrow(/does not belong/);
  });
});

it('generated passwords are 32 URL-safe characters and differ', () => {
  const a = generatePassword();
  expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(generatePassword()).not.toBe(a);
});
