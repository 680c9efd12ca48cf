/**
 * Summarizes a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof`, e.g. through
 * `bench/sink-postgres/run.ts --profile <dir>`): self time by component and the top functions.
 *
 *   node --import tsx bench/sink-postgres/profile-summary.ts <file.cpuprofile> [--top 30]
 *                                                              [--from-ms <ms>]
 *
 * Self time says which code burns the CPU; the inclusive table (project functions only: their own
 * time plus everything they call, each resumption of an async function counted) says which step
 * of the sink it is spent for.
 *
 * `--from-ms` skips the first milliseconds of the profile (start-up: module loading and the
 * TypeScript transform), so that what remains is the steady work. Idle time is left out of the
 * percentages: they say where the busy CPU went.
 *
 * Format: https://chromedevtools.github.io/devtools-protocol/tot/Profiler/#type-Profile
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the process a frame belongs to, from its script URL. */
function componentOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) {
    const name = pkg[1]!;
    if (name === 'pg' || name.startsWith('pg-') || name === 'pgpass') return `pg (${name})`;
    if (name === 'ioredis' || name === '@ioredis/commands' || name === 'redis-parser')
      return `ioredis (${name})`;
    return name;
  }
  const project = /\/(runtime|services|bench)\/(.+)$/.exec(url);
  if (project) return `project: ${project[1]}/${project[2]!.split('/')[0]}`;
  if (url.startsWith('node:')) return `node core (${url.slice(5).split('/')[0]})`;
  return url;
}

function main(): void {
  const program = new Command('profile-summary')
    .argument('<file>', '.cpuprofile file')
    .addOption(
      new Option('--top <n>', 'functions listed')
        .argParser((v) => Number.parseInt(v, 10))
        .default(30),
    )
    .addOption(
      new Option('--from-ms <ms>', 'skip the start of the profile')
        .argParser((v) => Number(v))
        .default(0),
    )
    .parse(process.argv);
  const { top, fromMs } = program.opts<{ top: number; fromMs: number }>();
  const profile = JSON.parse(readFileSync(program.args[0]!, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; its duration is the gap to the next sample.
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (at / 1000 < fromMs) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + next);
  }
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const component = componentOf(node);
    if (component === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    components.set(component, (components.get(component) ?? 0) + us);
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules|runtime|services|bench)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const label = `${functionName || '(anonymous)'} ${where}`.trim();
    functions.set(label, (functions.get(label) ?? 0) + us);
  }
  // Inclusive time of project functions: walk the tree, crediting each sample's time to every
  // distinct project function on its stack once.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    if (componentOf(byId.get(id)!) === '(idle)') continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      const project = /\/((runtime|services)\/.+)$/.exec(url);
      if (!project || !functionName) continue;
      const label = `${functionName} (${project[1]})`;
      if (seen.has(label)) continue;
      seen.add(label);
      inclusive.set(label, (inclusive.get(label) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1)}%`;
  const ms = (us: number) => (us / 1000).toFixed(0);
  const out = [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, from ${fromMs} ms: ` +
      `busy ${ms(busy)} ms, idle ${ms(idle)} ms`,
    '',
    '| component | self ms | share of busy |',
    '|---|---:|---:|',
    ...[...components]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => `| ${name} | ${ms(us)} | ${pct(us)} |`),
    '',
    '| function | self ms | share of busy |',
    '|---|---:|---:|',
    ...[...functions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `| ${name.replace(/\|/g, '\\|')} | ${ms(us)} | ${pct(us)} |`),
    '',
    '| project function, inclusive | ms | share of busy |',
    '|---|---:|---:|',
    ...[...inclusive]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => `| ${name} | ${ms(us)} | ${pct(us)} |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
