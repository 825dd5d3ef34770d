import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditAction } from '../audit/audit-actions';
import { AuditService } from '../audit/audit.service';
import { type Actor, actorId } from '../common/auth/actor';
import { DomainError, type FieldError } from '../common/errors/domain-error';
import { isHostInNetwork, parseIpv4Cidr } from '../common/net/ipv4';
import type { SettingsDto } from './settings.dto';
import { Settings, SETTINGS_ROW_ID } from './settings.entity';

/** Rules that span fields, which class-validator cannot express. */
function crossFieldProblems(body: SettingsDto): FieldError[] {
  const problems: FieldError[] = [];
  const pairs: [keyof SettingsDto['defaults'], keyof SettingsDto['limits']][] = [
    ['cores', 'maxCores'],
    ['memoryMb', 'maxMemoryMb'],
    ['diskGb', 'maxDiskGb'],
  ];
  for (const [def, max] of pairs) {
    if (body.defaults[def] > body.limits[max]) {
      problems.push({ field: `defaults.${def}`, message: `must not exceed limits.${max}` });
    }
  }
  const { network } = body;
  const net = network.cidr !== undefined ? parseIpv4Cidr(network.cidr) : null;
  if (network.cidr !== undefined && !net) {
    problems.push({ field: 'network.cidr', message: 'must be an IPv4 network like 10.0.0.0/24' });
  }
  if (network.ipMode === 'static') {
    if (network.cidr === undefined) {
      problems.push({ field: 'network.cidr', message: 'is required when ipMode is static' });
    }
    if (network.gateway === undefined) {
      problems.push({ field: 'network.gateway', message: 'is required when ipMode is static' });
    }
  }
  if (net && network.gateway !== undefined && !isHostInNetwork(network.gateway, net)) {
    problems.push({
      field: 'network.gateway',
      message: 'must be a host address inside network.cidr',
    });
  }
  return problems;
}

@Injectable()
export class SettingsService {
  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  async get(): Promise<Settings> {
    return this.em.findOneOrFail(Settings, { id: SETTINGS_ROW_ID });
  }

  async replace(body: SettingsDto, actor: Actor): Promise<Settings> {
    const problems = crossFieldProblems(body);
    if (problems.length > 0) throw DomainError.invalidFields(problems);
    const settings = await this.em.transactional(async (em) => {
      const row = await em.findOneOrFail(
        Settings,
        { id: SETTINGS_ROW_ID },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      row.defaults = { ...body.defaults };
      row.limits = { ...body.limits };
      row.network = { ...body.network, dns: [...body.network.dns] };
      row.updatedBy = actorId(actor);
      return row;
    });
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.SettingsUpdate,
      resourceType: 'settings',
      resourceId: String(SETTINGS_ROW_ID),
      ip: actor.ip,
    });
    return settings;
  }
}
