import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `base: './'` keeps asset URLs relative, so dist/ works both inside the Tauri
// bundle and when the headless server serves it at `/`.
export default defineConfig({
  base: './',
  plugins: [svelte()],
  // Tauri expects a fixed dev port and the dev server must not hide Rust errors.
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    // During `npm run dev` in a browser, forward the API to a running headless server.
    // The server answers only its own host and origin (README "Security"), so the proxy
    // presents itself as a plain client: the server's Host, no Origin.
    proxy: {
      '/api': {
        target: process.env.CINEMAHALAL_API ?? 'http://127.0.0.1:3001',
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on('proxyReq', (request) => {
            request.removeHeader('origin');
            request.removeHeader('sec-fetch-site');
          });
        },
      },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
