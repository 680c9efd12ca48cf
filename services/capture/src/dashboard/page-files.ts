import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../../runtime/errors/config-error.ts';

/** The lag page's static files. */
export interface PageFiles {
  html: string;
  js: string;
  css: string;
}

/**
 * Reads the page's files from `page/` beside this module: plain HTML, script and style with no
 * build step. A compiled copy of the service (`npm run build`) needs them copied beside it; a
 * missing file says so instead of failing on a bare ENOENT.
 */
export function readPageFiles(): PageFiles {
  const read = (name: string) => {
    const url = new URL(`./page/${name}`, import.meta.url);
    try {
      return readFileSync(url, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `the lag page's file ${url.pathname} is missing: copy services/capture/src/dashboard/page/ beside the compiled dashboard module`,
        err,
      );
    }
  };
  return { html: read('dashboard.html'), js: read('dashboard.js'), css: read('dashboard.css') };
}
