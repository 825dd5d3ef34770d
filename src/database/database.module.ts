import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EncryptionKeysCheck } from '../crypto/encryption-keys.check';
import { buildOrmOptions } from './orm-options';

@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      driver: PostgreSqlDriver,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...buildOrmOptions(config.database),
        registerRequestContext: true,
      }),
    }),
  ],
  providers: [EncryptionKeysCheck],
})
export class DatabaseModule {}
