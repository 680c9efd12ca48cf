import { CdcError } from './cdc-error.ts';
import { ErrorCode } from './error-code.ts';

/** Invalid configuration, found once at construction. Never retriable: fix the config. */
export class ConfigError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: ErrorCode.ConfigInvalid, retriable: false, cause });
  }
}
