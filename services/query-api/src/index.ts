export * from './app.ts';
export * from './config.ts';
export * from './participant.ts';
export * from './routes.ts';
export * from './schemas.ts';
export * from './watermark.ts';
