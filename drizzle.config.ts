import { defineConfig } from 'drizzle-kit';

// Only `npm run db:generate` reads this: migrations are generated from src/db/schema and
// committed; Concord applies them itself at start.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
