// Types of serve-static.js (plain JS so that it runs with node alone), for vite.config.ts and the e2e spec.
export interface HeaderRule { path: string; headers: Array<[string, string]> }
export function parseHeaders(text: string): HeaderRule[];
export function headersFor(rules: HeaderRule[], path: string): Record<string, string>;
export function readHeaders(dir: string): HeaderRule[];
export function serve(dir: string, options?: { port?: number; host?: string }): Promise<{ origin: string; close(): void }>;
