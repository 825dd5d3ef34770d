import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The CSP allows no inline script or style: Svelte's CSS goes to files, and Vite must not
// inline small assets as data: scripts or its module preload helper as an inline script.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte({ compilerOptions: { css: 'external' } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://localhost:3000' } },
});
