// The helpers moved to test/support/ with the private servers; the fault files keep this path.
export { freePort, until } from '../../support/ports.js';
