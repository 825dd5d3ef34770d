import { execFileSync } from 'node:child_process';
import e2eGlobalSetup from '../support/global-setup';

/** The e2e setup (migrated template database), and the UI built once for the whole run. */
export default async function globalSetup(): Promise<void> {
  // In a run with the e2e project too, its setup has already built this run's template.
  if (process.env.PROXIMITY_TEST_RUN !== `${process.pid}`) await e2eGlobalSetup();
  execFileSync('npm', ['run', '--silent', 'web:build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
