import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a running `trellis serve` (TRELLIS_API, default :8080).
const api = process.env.TRELLIS_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: './',
  server: { proxy: { '/v1': api } },
  preview: { proxy: { '/v1': api } },
  build: { chunkSizeWarningLimit: 1500 },
  test: { include: ['test/**/*.test.ts'], setupFiles: ['test/setup.ts'] },
});
