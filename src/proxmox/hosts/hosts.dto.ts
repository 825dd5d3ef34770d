import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { MultilineText } from '../../common/http/control-characters';
import { Optional } from '../../common/http/optional';
import { isHostAddress } from '../../common/net/host-address';
import { utils as sshUtils } from 'ssh2';
import { PageDto, PaginationQuery } from '../../common/pagination/pagination';
import type { ProxmoxHost } from './proxmox-host.entity';
import { VMID_BLOCK_SIZE, VMID_BLOCK_START } from './vmid-blocks';
import { NodeStatus, type ProxmoxNode } from './proxmox-node.entity';

const IsHostAddress = (): PropertyDecorator =>
  ValidateBy({
    name: 'isHostAddress',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isHostAddress(value),
      defaultMessage: () =>
        '$property must be a DNS name, an IPv4 or an IPv6 address, without scheme, port, path or brackets',
    },
  });
export const HOST_DEFAULTS = {
  port: 8006,
  sshPort: 22,
  sshUser: 'root',
  storage: 'local-lvm',
  backupStorage: 'local',
  bridge: 'vmbr0',
  template: 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst',
  // Placeholders: a host created without either gets the first free block (vmid-blocks.ts).
  vmidMin: VMID_BLOCK_START,
  vmidMax: VMID_BLOCK_START + VMID_BLOCK_SIZE - 1,
  portMin: 30_000,
  portMax: 32_767,
} as const;

// Checked here, on the plaintext: once stored, the key is only a ciphertext.
const IsUnencryptedPrivateKey = (): PropertyDecorator =>
  ValidateBy({
    name: 'isUnencryptedPrivateKey',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        const parsed = sshUtils.parseKey(value);
        return !(parsed instanceof Error) && parsed.isPrivateKey();
      },
      defaultMessage: () => '$property must be an unencrypted private key',
    },
  });

const MAX_SECRET = 256;
const MAX_PEM = 16_384;

const PortNumber = (): PropertyDecorator => (target, key) => {
  IsInt()(target, key);
  Min(1)(target, key);
  Max(65_535)(target, key);
};

export class CreateHostBody {
  @ApiProperty({ example: 'homelab', maxLength: 64 })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, {
    message: 'name must be 1..64 letters, digits, spaces or ._-',
  })
  name!: string;

  @ApiProperty({
    example: 'pve.lan',
    description: 'DNS name, IPv4 or IPv6 address; no scheme, port, path or brackets',
  })
  @IsString()
  @IsHostAddress()
  host!: string;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.port })
  @Optional()
  @PortNumber()
  port?: number;

  @ApiPropertyOptional({ example: 'root@pam!proximity' })
  @Optional()
  @Matches(/^[A-Za-z0-9._-]{1,64}@[A-Za-z0-9._-]{1,32}![A-Za-z][A-Za-z0-9._-]{0,63}$/, {
    message: 'tokenId must look like user@realm!name',
  })
  tokenId?: string;

  @ApiPropertyOptional({ writeOnly: true, format: 'uuid' })
  @Optional()
  @IsUUID()
  tokenSecret?: string;

  @ApiPropertyOptional({ example: 'root@pam' })
  @Optional()
  @Matches(/^[^\s@:]{1,64}@[A-Za-z0-9._-]{1,32}$/, {
    message: 'username must look like user@realm',
  })
  username?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SECRET)
  password?: string;

  @ApiPropertyOptional({ example: 'AA:BB:…', description: 'SHA-256 of the API certificate' })
  @Optional()
  @Matches(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, {
    message: 'tlsFingerprint must be a SHA-256 fingerprint like AA:BB:…',
  })
  tlsFingerprint?: string;

  @ApiPropertyOptional({ description: 'PEM CA certificate that signed the API certificate' })
  @Optional()
  @IsString()
  @MaxLength(MAX_PEM)
  @MultilineText()
  caCert?: string;

  @ApiPropertyOptional({ default: false, description: 'Skip TLS verification: explicit opt-in' })
  @Optional()
  @IsBoolean()
  tlsInsecure?: boolean;

  @ApiPropertyOptional({ description: 'Defaults to host' })
  @Optional()
  @IsString()
  @IsHostAddress()
  sshHost?: string;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.sshPort })
  @Optional()
  @PortNumber()
  sshPort?: number;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.sshUser })
  @Optional()
  @Matches(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'sshUser must be a Unix user name' })
  sshUser?: string;

  @ApiPropertyOptional({ writeOnly: true, description: 'OpenSSH or PEM private key, unencrypted' })
  @Optional()
  @IsString()
  @MaxLength(MAX_PEM)
  @MultilineText()
  @IsUnencryptedPrivateKey()
  sshPrivateKey?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SECRET)
  sshPassword?: string;

  @ApiPropertyOptional({ example: 'SHA256:…' })
  @Optional()
  @Matches(/^SHA256:[A-Za-z0-9+/]{43}$/, {
    message: 'sshHostKeyFingerprint must look like SHA256:<43 base64 characters>',
  })
  sshHostKeyFingerprint?: string;

  @ApiPropertyOptional({ default: false, description: 'Accept any SSH host key: explicit opt-in' })
  @Optional()
  @IsBoolean()
  sshInsecure?: boolean;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.storage })
  @Optional()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, { message: 'storage must be a Proxmox storage id' })
  storage?: string;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.backupStorage })
  @Optional()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, {
    message: 'backupStorage must be a Proxmox storage id',
  })
  backupStorage?: string;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.bridge })
  @Optional()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/, { message: 'bridge must be a Linux bridge name' })
  bridge?: string;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.template })
  @Optional()
  @Matches(/^[A-Za-z][A-Za-z0-9_.-]{0,63}:vztmpl\/[A-Za-z0-9._+-]{1,190}$/, {
    message: 'template must be a volume id like local:vztmpl/<file>',
  })
  template?: string;

  @ApiPropertyOptional({
    minimum: 100,
    maximum: 999_999_999,
    description:
      'Default (neither vmidMin nor vmidMax given): the first free block of 10,000 from 10000',
  })
  @Optional()
  @IsInt()
  @Min(100)
  @Max(999_999_999)
  vmidMin?: number;

  @ApiPropertyOptional({
    minimum: 100,
    maximum: 999_999_999,
    description:
      'Default (neither vmidMin nor vmidMax given): the first free block of 10,000 from 10000',
  })
  @Optional()
  @IsInt()
  @Min(100)
  @Max(999_999_999)
  vmidMax?: number;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.portMin, minimum: 1024, maximum: 65_535 })
  @Optional()
  @IsInt()
  @Min(1024)
  @Max(65_535)
  portMin?: number;

  @ApiPropertyOptional({ default: HOST_DEFAULTS.portMax, minimum: 1024, maximum: 65_535 })
  @Optional()
  @IsInt()
  @Min(1024)
  @Max(65_535)
  portMax?: number;

  @ApiPropertyOptional({ default: false })
  @Optional()
  @IsBoolean()
  isDefault?: boolean;
}

export class UpdateHostBody extends PartialType(CreateHostBody) {}

export class HostDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() host!: string;
  @ApiProperty() port!: number;
  @ApiProperty({ type: String, nullable: true }) tokenId!: string | null;
  @ApiProperty({ type: String, nullable: true }) username!: string | null;
  @ApiProperty() hasTokenSecret!: boolean;
  @ApiProperty() hasPassword!: boolean;
  @ApiProperty({ type: String, nullable: true }) tlsFingerprint!: string | null;
  @ApiProperty() hasCaCert!: boolean;
  @ApiProperty() tlsInsecure!: boolean;
  @ApiProperty({ type: String, nullable: true }) sshHost!: string | null;
  @ApiProperty() sshPort!: number;
  @ApiProperty() sshUser!: string;
  @ApiProperty() hasSshPrivateKey!: boolean;
  @ApiProperty() hasSshPassword!: boolean;
  @ApiProperty({ type: String, nullable: true }) sshHostKeyFingerprint!: string | null;
  @ApiProperty() sshInsecure!: boolean;
  @ApiProperty() storage!: string;
  @ApiProperty() backupStorage!: string;
  @ApiProperty() bridge!: string;
  @ApiProperty() template!: string;
  @ApiProperty() vmidMin!: number;
  @ApiProperty() vmidMax!: number;
  @ApiProperty() portMin!: number;
  @ApiProperty() portMax!: number;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;

  static from(h: ProxmoxHost): HostDto {
    return {
      id: h.id,
      name: h.name,
      host: h.host,
      port: h.port,
      tokenId: h.tokenId,
      username: h.username,
      hasTokenSecret: h.tokenSecret !== null,
      hasPassword: h.password !== null,
      tlsFingerprint: h.tlsFingerprint,
      hasCaCert: h.caCert !== null,
      tlsInsecure: h.tlsInsecure,
      sshHost: h.sshHost,
      sshPort: h.sshPort,
      sshUser: h.sshUser,
      hasSshPrivateKey: h.sshPrivateKey !== null,
      hasSshPassword: h.sshPassword !== null,
      sshHostKeyFingerprint: h.sshHostKeyFingerprint,
      sshInsecure: h.sshInsecure,
      storage: h.storage,
      backupStorage: h.backupStorage,
      bridge: h.bridge,
      template: h.template,
      vmidMin: h.vmidMin,
      vmidMax: h.vmidMax,
      portMin: h.portMin,
      portMax: h.portMax,
      isDefault: h.isDefault,
      createdAt: h.createdAt,
      updatedAt: h.updatedAt,
    };
  }
}

export class HostPage extends PageDto(HostDto, 'HostPage') {}

export class NodeSshTestResult {
  @ApiProperty({ example: 'pve2' }) node!: string;
  @ApiProperty({
    description:
      "A command relayed to this node through the host's SSH endpoint ran, as deploys run theirs",
  })
  ok!: boolean;
  @ApiPropertyOptional({
    example: "the host's SSH endpoint could not relay a command to this node",
  })
  reason?: string;
}

export class SshTestResult {
  @ApiProperty({
    description:
      'The SSH endpoint accepted the login and ran a command, and every online node was reached through it',
  })
  ok!: boolean;
  @ApiPropertyOptional({ example: 'the SSH server rejected the credentials' }) reason?: string;
  @ApiPropertyOptional({
    type: [NodeSshTestResult],
    description:
      "Each online node of the cluster; absent when the nodes could not be listed (the API check's reason says why)",
  })
  nodes?: NodeSshTestResult[];
}

export class HostTestResult {
  @ApiProperty({ description: 'True only when both the API and SSH answer' }) ok!: boolean;
  @ApiPropertyOptional({ example: '8.2.4' }) version?: string;
  @ApiPropertyOptional({ example: 42 }) latencyMs?: number;
  @ApiPropertyOptional({
    example: 'Proxmox rejected the credentials',
    description: 'Why the API check failed',
  })
  reason?: string;
  @ApiProperty({ type: SshTestResult }) ssh!: SshTestResult;
}

export class HostSyncResult {
  @ApiProperty({ example: 2, description: 'Nodes the cluster reported' }) nodes!: number;
}

export class NodesQuery extends PaginationQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID()
  hostId?: string;
}

export class NodeDto {
  @ApiProperty({ format: 'uuid' }) hostId!: string;
  @ApiProperty() hostName!: string;
  @ApiProperty() node!: string;
  @ApiProperty({ enum: NodeStatus }) status!: NodeStatus;
  @ApiProperty() cpus!: number;
  @ApiProperty({ description: 'bytes' }) memoryTotal!: number;
  @ApiProperty({ description: 'bytes' }) memoryFree!: number;
  @ApiProperty({ description: 'bytes' }) diskFree!: number;

  static from(node: ProxmoxNode): NodeDto {
    const host = node.host.getEntity();
    return {
      hostId: host.id,
      hostName: host.name,
      node: node.name,
      status: node.status,
      cpus: node.cpus,
      memoryTotal: Number(node.memoryTotal),
      memoryFree: Number(node.memoryFree),
      diskFree: Number(node.diskFree),
    };
  }
}

export class NodePage extends PageDto(NodeDto, 'NodePage') {}
