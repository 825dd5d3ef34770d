import { killSpawned } from './spawn-app';

// Runs after every e2e test file, whatever its own hooks did.
afterAll(killSpawned);
