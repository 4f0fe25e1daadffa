export * from './contact-commands.ts';
export * from './handle-command.ts';
