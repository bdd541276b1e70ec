// Builds the dashboard page into dist/apps/dashboard/web, which edge-local and the dashboard
// service serve at `/`. Preact through esbuild's automatic JSX runtime: no Babel, no plugin.
//   npx vite build --config apps/dashboard/web/vite.config.mjs
//   npx vite --config apps/dashboard/web/vite.config.mjs   (dev server; proxies /api to :8080)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('../../../dist/apps/dashboard/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
