import type { Cell } from './table.ts';

/** SGR codes of the few colours the CLI uses. */
const CODES = { red: 31, green: 32, yellow: 33, dim: 2 } as const;

export type Colour = keyof typeof CODES;

/**
 * Whether to colour output: only on a terminal, and never when NO_COLOR is set to anything
 * non-empty (https://no-color.org). Piped output stays plain text for scripts.
 */
export function colourEnabled(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function paint(text: string, colour: Colour): string {
  return `\u001b[${CODES[colour]}m${text}\u001b[0m`;
}

/** The colour of a state word the commands print; undefined for any other value. */
const STATE_COLOURS: Readonly<Record<string, Colour>> = {
  running: 'green',
  'caught up': 'green',
  compatible: 'green',
  stopped: 'red',
  incompatible: 'red',
  failed: 'red',
  held: 'yellow',
  unknown: 'yellow',
  unowned: 'yellow',
};

/** A table decorator that colours state words, wherever they appear. */
export function stateDecorator(_column: string, value: Cell, text: string): string {
  const colour = typeof value === 'string' ? STATE_COLOURS[value] : undefined;
  return colour ? paint(text, colour) : text;
}
