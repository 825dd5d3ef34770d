import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { AdminOnly, Authenticated } from '../common/auth/access.decorators';
import { CurrentActor } from '../common/auth/current-principal.decorator';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { SettingsDto } from './settings.dto';
import { SettingsService } from './settings.service';

@ApiTags('settings')
@Controller('api/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Deployment defaults, limits and network settings' })
  @ApiOkResponse({ type: SettingsDto })
  async get(): Promise<SettingsDto> {
    return SettingsDto.from(await this.settings.get());
  }

  @Put()
  @AdminOnly()
  @ApiOperation({ summary: 'Replace the settings' })
  @ApiOkResponse({ type: SettingsDto })
  @ApiErrors(400)
  async replace(@Body() body: SettingsDto, @CurrentActor() actor: Actor): Promise<SettingsDto> {
    return SettingsDto.from(await this.settings.replace(body, actor));
  }
}
