export * from './audit.js';
export * from './contacts.js';
export * from './counters.js';
export * from './deliveries.js';
export * from './forum.js';
export * from './organisations.js';
export * from './people.js';
export * from './scheduled.js';
