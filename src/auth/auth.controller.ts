import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { Authenticated, Public, SessionOnly } from '../common/auth/access.decorators';
import { CurrentActor, CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { UserDto } from '../users/users.dto';
import { UsersService } from '../users/users.service';
import { ChangePasswordBody, LoginBody, RefreshBody, TokenPairDto } from './auth.dto';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in; 5 failures per username and address lock it for 15 min' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(400, 401, 429, 503)
  login(@Body() body: LoginBody, @CurrentActor() actor: Actor): Promise<TokenPairDto> {
    return this.auth.login(body.username, body.password, actor.ip ?? 'unknown');
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Swap a refresh token for a new pair; reuse revokes the whole family' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(400, 401)
  refresh(@Body() body: RefreshBody, @CurrentActor() actor: Actor): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken, actor.ip);
  }

  @Post('logout')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a refresh token of the caller' })
  @ApiNoContentResponse()
  @ApiErrors(400)
  async logout(
    @Body() body: RefreshBody,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.auth.logout(principal, body.refreshToken, actor);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The caller' })
  @ApiOkResponse({ type: UserDto })
  async me(@CurrentPrincipal() principal: Principal): Promise<UserDto> {
    return UserDto.from(await this.users.get(principal.userId));
  }

  @Post('password')
  @Authenticated()
  @SessionOnly()
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Change the own password: every session ends (refresh and access tokens); wrong current passwords count toward the login lockout',
  })
  @ApiNoContentResponse()
  @ApiErrors(400, 429, 503)
  async changePassword(
    @Body() body: ChangePasswordBody,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.auth.changePassword(principal, body.currentPassword, body.newPassword, actor);
  }
}
