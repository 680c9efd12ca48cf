import { CdcError } from '../errors/cdc-error.ts';
import { ErrorCode } from '../errors/error-code.ts';

/**
 * Why a service could not start, by what an operator has to do about it. Each kind is one
 * documented exit code of the services (README, "Exit codes of the services").
 */
export type StartFailureKind =
  /** The configuration (environment, project file, schemas) cannot be used: exit 2. */
  | 'config'
  /** A server was still unreachable after the startup retries: exit 3. */
  | 'unreachable'
  /** A server refused the credentials or the TLS handshake: exit 4. */
  | 'refused'
  /** The service's own port is taken: exit 5. */
  | 'port-in-use';

const EXIT_CODES: Readonly<Record<StartFailureKind, number>> = {
  config: 2,
  unreachable: 3,
  refused: 4,
  'port-in-use': 5,
};

/**
 * A service start that failed for a reason an operator can fix. The message is the whole story
 * in one line: what failed, where, and what to do.
 */
export class ServiceStartError extends CdcError {
  readonly kind: StartFailureKind;

  constructor(kind: StartFailureKind, message: string, cause?: unknown) {
    super(message, { code: ErrorCode.ServiceStartFailed, retriable: false, cause });
    this.kind = kind;
  }

  /** The process exit code of this kind of failure. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }
}
