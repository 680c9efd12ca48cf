/** Types of scripts/patch-kafkajs.mjs (plain JavaScript: it runs at install, before anything else is set up). */
export declare const BUGGY: string;
export declare const FIXED: string;
export declare function patchFilterSource(source: string): string;
