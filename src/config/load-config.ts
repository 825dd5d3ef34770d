import { AppConfig } from './app-config';
import { parseEnvironment } from './environment';

/** The single place that reads process.env. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  return AppConfig.fromEnvironment(parseEnvironment(source));
}
