import { loadConfig } from './src/config/load-config';
import { buildOrmOptions } from './src/database/orm-options';

/** For MikroORM tooling; the application builds the same options from its validated config. */
const config = loadConfig();
export default buildOrmOptions(config.database);
