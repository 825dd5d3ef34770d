import type { CatalogApp } from '../../catalog/catalog-app';
import { DomainError } from '../../common/errors/domain-error';
import type { Settings } from '../../settings/settings.entity';
import { resourcesFor } from './deploy-request.service';

const app = { minCores: 1, minMemoryMb: 512, minDiskGb: 4 } as CatalogApp;
const settings = {
  defaults: { cores: 2, memoryMb: 256, diskGb: 16, swapMb: 512 },
  limits: { maxCores: 4, maxMemoryMb: 8192, maxDiskGb: 100, maxAppsPerUser: 20 },
} as Settings;

function fieldsOf(call: () => unknown): string[] {
  try {
    call();
  } catch (err) {
    return ((err as DomainError).details ?? []).map((d) => d.field);
  }
  throw new Error('expected a refusal');
}

describe('resourcesFor', () => {
  it('defaults from the settings, raised to the catalog minimum', () => {
    expect(resourcesFor(app, settings, {})).toEqual({
      cores: 2,
      memoryMb: 512,
      diskGb: 16,
      swapMb: 512,
    });
  });

  it('takes what is asked within the bounds, the bounds included', () => {
    expect(resourcesFor(app, settings, { cores: 4, memoryMb: 512, diskGb: 100 })).toMatchObject({
      cores: 4,
      memoryMb: 512,
      diskGb: 100,
    });
  });

  it('refuses every value outside its bounds, each on its field', () => {
    expect(fieldsOf(() => resourcesFor(app, settings, { cores: 5, memoryMb: 511 }))).toEqual([
      'resources.cores',
      'resources.memoryMb',
    ]);
    expect(fieldsOf(() => resourcesFor(app, settings, { diskGb: 3 }))).toEqual([
      'resources.diskGb',
    ]);
  });
});
