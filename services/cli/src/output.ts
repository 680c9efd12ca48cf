import { colourEnabled, stateDecorator } from './colors.ts';
import { snakeKeys } from './json-keys.ts';
import { type Cell, formatTable } from './table.ts';

export type Row = Readonly<Record<string, Cell>>;

/**
 * Where a command's results go: aligned tables (state words coloured on a terminal) or, with the
 * global `--json`, one JSON document whose keys are snake_case, for scripts and monitoring.
 */
export class Output {
  readonly json: boolean;
  readonly colour: boolean;

  constructor(
    options: { json: boolean },
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.json = options.json;
    this.colour = colourEnabled(stdout, env);
  }

  /** Rows as a table, or as a JSON array with --json. */
  rows(rows: readonly Row[]): void {
    if (this.json) this.jsonValue(rows);
    else this.table(rows);
  }

  /** A table (nothing for no rows). */
  table(rows: readonly Row[]): void {
    const text = formatTable(rows, this.colour ? { decorate: stateDecorator } : {});
    if (text) this.line(text);
  }

  /** Any value as JSON, its keys in snake_case. */
  jsonValue(value: unknown): void {
    this.line(JSON.stringify(snakeKeys(value)));
  }

  line(text: string): void {
    this.stdout.write(`${text}\n`);
  }
}
