import { defineConfig } from 'vite';
import { inboxViteConfig } from './vite-config.ts';

export default defineConfig(inboxViteConfig);
