export * from './delivery-store.ts';
export * from './http-delivery.ts';
export * from './notifications.ts';
export * from './retention.ts';
export * from './retry-schedule.ts';
export * from './safe-target.ts';
