// Builds the renderer for both hosts: Electron loads dist/index.html from the ASAR (file URL, hence
// relative asset paths) and the browser host serves dist/ on 127.0.0.1. No inline scripts or
// styles are emitted, so the strict CSP (script-src 'self') holds.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome130',
    sourcemap: false,
    // The module preload polyfill is an inline-able helper; Chromium needs none.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
  },
});
