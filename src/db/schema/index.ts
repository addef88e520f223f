export * from './associations.ts';
export * from './connections.ts';
export * from './contacts.ts';
export * from './inbox.ts';
export * from './logs.ts';
export * from './outbox.ts';
export * from './sessions.ts';
