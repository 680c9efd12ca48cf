import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files of a throwaway PKI, all in one temp dir. */
export interface Pki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** Signed by the CA the server trusts: passes `tls-auth-clients yes`. */
  client: { certFile: string; keyFile: string };
  /** Signed by another CA: a certificate the server must refuse. */
  rogueClient: { certFile: string; keyFile: string };
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${stderr || String(error)}`);
  }
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost, and client certificates from that CA and
 * from a second one. Our own minimal config, so the system's openssl.cnf cannot change the result.
 */
export async function makePki(dir: string): Promise<Pki> {
  const file = (name: string) => join(dir, name);
  await writeFile(
    file('req.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = cdc-test',
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await writeFile(
    file('server.ext'),
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
      'authorityKeyIdentifier = keyid, issuer',
      '',
    ].join('\n'),
  );
  await writeFile(
    file('client.ext'),
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid, issuer',
      '',
    ].join('\n'),
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) => {
    openssl(dir, [
      'req',
      '-x509',
      '-new',
      ...ec,
      '-config',
      'req.cnf',
      '-extensions',
      'v3_ca',
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    ]);
  };
  const leaf = (name: string, cn: string, signer: string, ext: string) => {
    openssl(dir, [
      'req',
      '-new',
      ...ec,
      '-config',
      'req.cnf',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.crt`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-CAserial',
      `${signer}.srl`,
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      `${name}.crt`,
    ]);
  };
  ca('ca');
  ca('rogue-ca');
  leaf('server', 'localhost', 'ca', 'server.ext');
  leaf('client', 'cdc-client', 'ca', 'client.ext');
  leaf('rogue-client', 'cdc-rogue-client', 'rogue-ca', 'client.ext');
  return {
    caFile: file('ca.crt'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    client: { certFile: file('client.crt'), keyFile: file('client.key') },
    rogueClient: { certFile: file('rogue-client.crt'), keyFile: file('rogue-client.key') },
  };
}
