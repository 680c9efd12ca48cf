import { CdcError } from './cdc-error.ts';

/** Invalid configuration, found once at construction. Never retriable: fix the config. */
export class ConfigError extends CdcError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'CONFIG_INVALID', retriable: false, cause });
  }
}
