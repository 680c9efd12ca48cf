#!/usr/bin/env node
// The `cdc` command (package.json "bin"): `npx cdc …` in a checkout, or wherever the package is
// installed. The CLI is TypeScript run from its sources, as the services are: tsx compiles each
// module as it loads (Node 20 runs no TypeScript itself), so neither needs a build first. tsx is
// therefore a dependency, not only a devDependency.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/src/main.ts');
