/** What `cdc` exits with; the README's CLI section lists the same. */
export const ExitCode = {
  /** Done (and, for checks, all well). */
  Ok: 0,
  /** The request could not be carried out: unknown entity, key not quarantined, Redis failed. */
  Failed: 1,
  /** Bad arguments, a file that cannot be used, or a configuration it cannot use. */
  Usage: 2,
  /** `lag --max-behind N`: a partition is further behind than N entries, or its lag unknown. */
  Behind: 3,
  /** `schemas check` / `schemas register`: the schema cannot read data of the latest version. */
  Incompatible: 4,
  /** `replay --wait`: the sink had not caught up when `--timeout` ran out. */
  Timeout: 5,
} as const;
