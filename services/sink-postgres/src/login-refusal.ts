import pg from 'pg';
import { ServiceStartError } from '../../../runtime/service/service-start-error.ts';

/**
 * A first connection's failure that waiting will not fix, as a ServiceStartError naming the
 * server (without the password) and what to change; undefined for anything else (a server not
 * up yet is waited for).
 */
export function loginRefusal(error: unknown, url: string): ServiceStartError | undefined {
  const where = `PostgreSQL at ${withoutPassword(url)}`;
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    // Class 28: invalid authorization specification (wrong password, no pg_hba.conf entry).
    if (code.startsWith('28')) {
      return new ServiceStartError(
        'refused',
        `${where} refused the login (${error.message}): check the user and password in ` +
          'POSTGRES_URL (or the url of the sink in the project file) and pg_hba.conf',
        error,
      );
    }
    if (code === '3D000') {
      return new ServiceStartError(
        'config',
        `${where}: ${error.message}; create the database or name an existing one in POSTGRES_URL`,
        error,
      );
    }
    return undefined;
  }
  if (error instanceof Error && /does not support SSL|SSL|certificate/i.test(error.message)) {
    return new ServiceStartError(
      'refused',
      `the TLS handshake with ${where} failed (${error.message}): check sslmode and the ` +
        'certificate settings in POSTGRES_URL against the server',
      error,
    );
  }
  return undefined;
}

/** The URL with its password masked, for logs. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured URL';
  }
}
