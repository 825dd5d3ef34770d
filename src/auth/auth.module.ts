import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccessGuard } from './access.guard';
import { AccessTokens } from './access-tokens';
import { ApiTokensController } from './api-tokens.controller';
import { ApiTokensService } from './api-tokens.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginThrottle } from './login-throttle';
import { PrincipalResolver } from './principal-resolver';
import { UserTokensController } from './user-tokens.controller';

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [AppConfig],
      // A key object, not the string: given a string, the JWT library first
      // tries to parse it as a public key on every verification (and throws).
      useFactory: (config: AppConfig) => ({
        secret: createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8')),
      }),
    }),
    UsersModule,
    SessionsModule,
  ],
  controllers: [AuthController, ApiTokensController, UserTokensController],
  providers: [
    AuthService,
    AccessTokens,
    ApiTokensService,
    LoginThrottle,
    PrincipalResolver,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [ApiTokensService],
})
export class AuthModule {}
