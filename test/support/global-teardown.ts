import { dropRunDatabases, testRunId } from './databases';
import { deleteRedisKeys } from './redis-keys';

/** Leaves nothing of this run behind: its databases and its Redis keys (every test prefix starts so). */
export default async function globalTeardown(): Promise<void> {
  await dropRunDatabases();
  await deleteRedisKeys(`proximity-test-${testRunId()}-*`);
}
