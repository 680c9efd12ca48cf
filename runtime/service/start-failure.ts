import { ConfigError } from '../errors/config-error.ts';
import { SchemaCompatibilityError } from '../errors/schema-compatibility-error.ts';
import { ServiceStartError } from './service-start-error.ts';

/**
 * What an error that ended a service's start means for an operator, as a ServiceStartError with
 * one line saying what failed, where and what to do; undefined for an error nobody foresaw (a
 * bug: the service then logs it with its stack).
 */
export function startFailure(error: unknown): ServiceStartError | undefined {
  if (error instanceof ServiceStartError) return error;
  if (error instanceof SchemaCompatibilityError) {
    return new ServiceStartError(
      'config',
      `${error.message} The registered versions stay as they are; the service did not start.`,
      error,
    );
  }
  if (error instanceof ConfigError) {
    return new ServiceStartError('config', `configuration: ${error.message}`, error);
  }
  return portInUse(error, 'another port');
}

/**
 * A port the service could not listen on (taken by another process, or privileged), or
 * undefined for any other error. `variable` names the setting that moves it.
 */
export function portInUse(error: unknown, variable: string): ServiceStartError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, address, port } = error as { code?: unknown; address?: unknown; port?: unknown };
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return undefined;
  const where =
    address !== undefined && port !== undefined ? `${String(address)}:${String(port)}` : 'its port';
  const choose = variable === 'another port' ? 'choose another port' : `set ${variable}`;
  return code === 'EADDRINUSE'
    ? new ServiceStartError(
        'port-in-use',
        `cannot listen on ${where}: another process is using it; stop that process or ${choose}`,
        error,
      )
    : new ServiceStartError(
        'config',
        `cannot listen on ${where}: not allowed (ports below 1024 need privileges); ${choose}`,
        error,
      );
}
