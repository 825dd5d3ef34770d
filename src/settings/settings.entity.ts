import { Check, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

export interface ResourceDefaults {
  cores: number;
  memoryMb: number;
  diskGb: number;
  swapMb: number;
}

export interface ResourceLimits {
  maxCores: number;
  maxMemoryMb: number;
  maxDiskGb: number;
  maxAppsPerUser: number;
}

export interface NetworkSettings {
  ipMode: 'dhcp' | 'static';
  cidr?: string;
  gateway?: string;
  dns: string[];
}

export const SETTINGS_ROW_ID = 1;

/** The single settings row (id 1, created by the first migration). */
@Entity({ tableName: 'settings' })
@Check({ name: 'settings_single_row', expression: 'id = 1' })
export class Settings {
  [OptionalProps]?: 'updatedBy' | 'updatedAt';

  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = SETTINGS_ROW_ID;

  @Property({ type: 'json' })
  defaults!: ResourceDefaults;

  @Property({ type: 'json' })
  limits!: ResourceLimits;

  @Property({ type: 'json' })
  network!: NetworkSettings;

  @Property({ type: 'uuid', nullable: true })
  updatedBy: string | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
