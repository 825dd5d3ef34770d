import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { UsersService } from '../users/users.service';

/** Creates the first admin from the environment when the database has no user at all. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  constructor(
    @InjectPinoLogger(AdminBootstrap.name) private readonly logger: PinoLogger,
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.bootstrapAdmin;
    if (!admin) return;
    const created = await this.users.bootstrapAdmin(admin.username, admin.password);
    if (created) this.logger.info({ username: created.username }, 'created the first admin');
  }
}
