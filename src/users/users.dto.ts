import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEnum, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Optional } from '../common/http/optional';
import { PageDto } from '../common/pagination/pagination';
import { User, UserRole } from './user.entity';

export const USERNAME_PATTERN = /^[a-zA-Z0-9._-]{3,64}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

export const IsUsername = (): PropertyDecorator =>
  Matches(USERNAME_PATTERN, {
    message: 'username must be 3..64 characters of letters, digits, ".", "_" or "-"',
  });

export function IsNewPassword(): PropertyDecorator {
  return (target, key) => {
    IsString()(target, key);
    MinLength(PASSWORD_MIN, { message: `$property must be at least ${PASSWORD_MIN} characters` })(
      target,
      key,
    );
    MaxLength(PASSWORD_MAX)(target, key);
  };
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'alice' }) username!: string;
  @ApiProperty({ enum: UserRole }) role!: UserRole;
  @ApiProperty() disabled!: boolean;
  @ApiProperty() createdAt!: Date;

  static from(user: User): UserDto {
    return {
      id: user.id,
      username: user.username,
      role: user.role,
      disabled: user.disabled,
      createdAt: user.createdAt,
    };
  }
}

export class UserPage extends PageDto(UserDto, 'UserPage') {}

export class CreateUserBody {
  @ApiProperty({ example: 'alice', pattern: USERNAME_PATTERN.source })
  @IsUsername()
  username!: string;

  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, writeOnly: true })
  @IsNewPassword()
  password!: string;

  @ApiProperty({ enum: UserRole })
  @IsEnum(UserRole)
  role!: UserRole;
}

export class UpdateUserBody {
  @ApiPropertyOptional({ enum: UserRole })
  @Optional()
  @IsEnum(UserRole)
  role?: UserRole;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, writeOnly: true })
  @Optional()
  @IsNewPassword()
  password?: string;
}
