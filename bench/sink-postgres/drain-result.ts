/** What every drain of the backlog measures, whichever side drains it. */
export interface DrainResult {
  eventsPerSecond: number;
  ms: number;
  /** CPU time of the process doing the sink's work per event, µs. */
  cpuMicrosPerEvent: number;
}
