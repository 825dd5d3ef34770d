import { Test } from '@nestjs/testing';
import { ProxmoxApiGateway } from '../../proxmox/gateway/proxmox-api.gateway';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { NodeShell } from '../../proxmox/shell/node-shell';
import { Ssh2NodeShell } from '../../proxmox/shell/ssh2-node-shell';
import { DEPLOY_STEP_NAMES, DeploySteps } from './deploy.steps';
import { DEPLOY_STEP_PROVIDERS } from './deploy-steps.providers';
import { DeployTimings } from './deploy-timings';

describe('DEPLOY_STEP_PROVIDERS', () => {
  it("resolve with Nest's injector next to a gateway and a shell", async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [
        ...DEPLOY_STEP_PROVIDERS,
        { provide: ProxmoxGateway, useClass: ProxmoxApiGateway },
        { provide: NodeShell, useClass: Ssh2NodeShell },
      ],
    }).compile();
    const steps = moduleRef.get(DeploySteps);
    expect(steps.steps.map((s) => s.name)).toEqual([...DEPLOY_STEP_NAMES]);
    expect(moduleRef.get(DeployTimings).pollMs).toBe(1_000);
    await moduleRef.close();
  });
});
