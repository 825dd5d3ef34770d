import { parseCatalogFiles, readCatalogDirectory } from '../../catalog/catalog.loader';
import type { CatalogApp } from '../../catalog/catalog-app';
import { ContainerCommands } from '../../proxmox/container/container-commands';
import { ProxmoxApiGateway } from '../../proxmox/gateway/proxmox-api.gateway';
import type { ProxmoxConnection } from '../../proxmox/gateway/proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { NodeShellError } from '../../proxmox/shell/shell-errors';
import { simTarget, TrackingShell } from '../../proxmox/shell/testing/shell-fixture';
import { ForwardingRules } from '../../ports/forwarding-rules';
import { SimulatorFixture, TEMPLATE } from '../../../test/pve-simulator/testing/simulator-fixture';
import { freePort } from '../../../test/support/free-port';
import { ContainerSteps, type DeployTarget } from './container.steps';
import { classifyFailure, DeployErrorCode, DeployStepError } from './deploy-errors';
import { DeployTimings } from './deploy-timings';
import { type DeployPlan, type DeployState, DeploySteps, DEPLOY_STEP_NAMES } from './deploy.steps';
import { PortProbe, TcpPortProbe } from './port-probe';
import { StackSteps } from './stack.steps';

const ROOT_PASSWORD = 'Root-pw-7f3a-SECRET';
const DB_PASSWORD = 'Db-pw-91c2-SECRET';
const DB_ROOT_PASSWORD = 'Db-root-pw-55e0-SECRET';
const SECRETS = [ROOT_PASSWORD, DB_PASSWORD, DB_ROOT_PASSWORD];

class SilentProbe extends PortProbe {
  answers(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/** Everything of an error that could reach a log line or a response. */
function visible(error: unknown): string {
  const e = error as Error & Partial<ProxmoxError> & Partial<NodeShellError>;
  return JSON.stringify({
    message: e.message,
    stack: e.stack,
    upstream: e.upstream,
    details: e.details,
    cause: e.cause instanceof Error ? e.cause.message : '',
  });
}

async function failure(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the step to fail');
}

describe('Deploy steps against the Proxmox VE simulator', () => {
  let fx: SimulatorFixture;
  let ghost: CatalogApp;
  let shell: TrackingShell;
  let vmid = 300;
  const timings = DeployTimings.with({
    pollMs: 20,
    taskDeadlineMs: 10_000,
    addressDeadlineMs: 10_000,
    verifyDeadlineMs: 2_000,
    createLockDeadlineMs: 10_000,
    connectTimeoutMs: 500,
  });

  const connection = (auth: 'token' | 'ticket' = 'token'): ProxmoxConnection => ({
    host: '127.0.0.1',
    port: fx.sim.port,
    auth:
      auth === 'token'
        ? { tokenId: fx.sim.tokenId, tokenSecret: fx.sim.tokenSecret }
        : { username: fx.sim.username, password: fx.sim.password },
    tls: { fingerprint: fx.sim.tlsFingerprint },
    timeoutMs: 2_000,
  });

  const build = (overrides: { timings?: DeployTimings; probe?: PortProbe } = {}) => {
    shell = new TrackingShell();
    const gateway = new ProxmoxApiGateway();
    const t = overrides.timings ?? timings;
    const container = new ContainerSteps(gateway, shell, t);
    const stack = new StackSteps(
      new ContainerCommands(shell),
      overrides.probe ?? new TcpPortProbe(),
      t,
    );
    return {
      container,
      stack,
      deploy: new DeploySteps(container, stack, new ForwardingRules(shell)),
    };
  };

  const plan = async (auth: 'token' | 'ticket' = 'token'): Promise<DeployPlan> => {
    vmid += 1;
    const target: DeployTarget = {
      connection: connection(auth),
      node: 'pve1',
      shell: simTarget(fx.sim),
    };
    return {
      target,
      applicationId: `0b7e4d3c-0000-4000-8000-000000000${vmid}`,
      vmid,
      hostname: `ghost-${vmid}`,
      container: {
        template: TEMPLATE,
        storage: 'local-lvm',
        bridge: 'vmbr0',
        diskGb: 8,
        cores: 1,
        memoryMb: 1024,
        swapMb: 512,
      },
      rootPassword: ROOT_PASSWORD,
      app: ghost,
      environment: { URL: 'http://blog.example.test' },
      generated: { DB_PASSWORD, DB_ROOT_PASSWORD },
      ports: [{ publicPort: await freePort(), containerPort: 2368, protocol: 'tcp' }],
    };
  };

  const runSteps = async (
    deploy: DeploySteps,
    p: DeployPlan,
    until: number = DEPLOY_STEP_NAMES.length,
  ): Promise<DeployState> => {
    let state: DeployState = {};
    for (const step of deploy.steps.slice(0, until)) state = await step.run(p, state);
    return state;
  };

  const compensate = async (deploy: DeploySteps, p: DeployPlan) => {
    for (const step of deploy.compensation) await step.run(p);
  };

  /** Nothing of the application is left in the simulator. */
  const expectNothingLeft = async (p: DeployPlan) => {
    const state = await fx.state();
    expect(state.containers.filter((c) => c.vmid === p.vmid)).toEqual([]);
    expect(state.forwards.filter((f) => f.comment === `proximity:${p.applicationId}`)).toEqual([]);
  };

  const faults = async (rules: Record<string, unknown>[]) => {
    expect((await fx.control('POST', '/_sim/faults', { rules })).status).toBe(201);
  };

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
    const catalog = parseCatalogFiles(await readCatalogDirectory('catalog'));
    ghost = catalog.apps.find((a) => a.id === 'ghost') as CatalogApp;
  });
  afterAll(async () => {
    await fx?.close();
  });
  beforeEach(async () => {
    await fx.control('POST', '/_sim/latency', {
      taskMs: 10,
      dhcpLeaseMs: 200,
      statsIntervalMs: 500,
    });
  });
  afterEach(async () => {
    expect(shell.open).toBe(0);
    await fx.control('DELETE', '/_sim/faults');
  });

  it('deploys ghost: running container with nesting and keyctl, both services, a forwarded port that answers', async () => {
    const { deploy } = build();
    const p = await plan();
    const state = await runSteps(deploy, p);
    const sim = await fx.state();
    const ct = sim.containers.find((c) => c.vmid === p.vmid);
    expect(ct).toMatchObject({ status: 'running', ip: state.ipAddress, node: 'pve1' });
    expect(ct?.services.sort()).toEqual(['db', 'ghost']);
    expect(ct?.tags).toEqual(expect.arrayContaining(['proximity', `proximity-${p.applicationId}`]));
    expect(sim.forwards).toContainEqual({
      node: 'pve1',
      publicPort: p.ports[0].publicPort,
      protocol: 'tcp',
      target: `${state.ipAddress}:2368`,
      comment: `proximity:${p.applicationId}`,
    });
    const config = await fx.token.nodes.$('pve1').lxc.$(p.vmid).config.$get();
    expect(config).toMatchObject({ features: 'nesting=1,keyctl=1', unprivileged: 1 });
    const answer = await fetch(`http://127.0.0.1:${p.ports[0].publicPort}/`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('ghost');
  });

  it('every step is idempotent: running them all again changes nothing', async () => {
    const { deploy } = build();
    const p = await plan('ticket');
    const first = await runSteps(deploy, p);
    const before = await fx.state();
    const again = await runSteps(deploy, p);
    expect(again).toEqual(first);
    const after = await fx.state();
    expect(after.containers.filter((c) => c.vmid === p.vmid)).toHaveLength(1);
    expect(after.forwards).toEqual(before.forwards);
    expect(after.tasks.total).toBe(before.tasks.total);
  });

  it('compensation destroys the container and removes the rules; a second run is a no-op', async () => {
    const { deploy } = build();
    const p = await plan();
    await runSteps(deploy, p);
    await compensate(deploy, p);
    await expectNothingLeft(p);
    await compensate(deploy, p);
    await expectNothingLeft(p);
  });

  it("a VMID holding someone else's guest is a VMID conflict, and compensation never touches it", async () => {
    const { container, deploy } = build();
    const p = await plan();
    const other = await plan();
    await fx.control('POST', '/_sim/guests', { node: 'pve1', vmid: p.vmid, hostname: 'theirs' });
    await fx.control('POST', '/_sim/guests', {
      node: 'pve2',
      vmid: other.vmid,
      hostname: 'theirs2',
    });
    for (const conflicting of [p, other]) {
      const error = await failure(
        container.createContainer({ ...conflicting, ...conflicting.container }),
      );
      expect(error).toBeInstanceOf(DeployStepError);
      expect((error as DeployStepError).code).toBe(DeployErrorCode.VmidConflict);
      expect(classifyFailure(error)).toBe('vmid_conflict');
    }
    expect(classifyFailure(await failure(compensate(deploy, p)))).toBe('vmid_conflict');
    const sim = await fx.state();
    expect(sim.containers.find((c) => c.vmid === p.vmid)?.hostname).toBe('theirs');
    expect(sim.containers.find((c) => c.vmid === other.vmid)?.hostname).toBe('theirs2');
  });

  it('a create that an earlier attempt left running is awaited and taken over, not repeated', async () => {
    const { container } = build();
    const p = await plan();
    await fx.control('POST', '/_sim/latency', { taskMs: 300 });
    const upid = await new ProxmoxApiGateway().createContainer(p.target.connection, {
      ...p.container,
      node: 'pve1',
      vmid: p.vmid,
      hostname: p.hostname,
      template: TEMPLATE,
      password: ROOT_PASSWORD,
      features: 'nesting=1',
      tags: ['proximity', `proximity-${p.applicationId}`],
      description: 'x',
    });
    expect(upid).toContain('vzcreate');
    expect(await container.createContainer({ ...p, ...p.container })).toEqual({ created: false });
    const config = await fx.token.nodes.$('pve1').lxc.$(p.vmid).config.$get();
    expect(config.features).toBe('nesting=1,keyctl=1');
    const creates = await fx.token.nodes
      .$('pve1')
      .tasks.$get({ vmid: p.vmid, typefilter: 'vzcreate' });
    expect(creates).toHaveLength(1);
  });

  it('stops with a clean shutdown, forces a stop when the shutdown fails, and is done when stopped', async () => {
    const { container, deploy } = build();
    const p = await plan();
    await runSteps(deploy, p, 2);
    expect(await container.stopContainer(p)).toEqual({ stopped: true, forced: false });
    expect(await container.stopContainer(p)).toEqual({ stopped: false, forced: false });
    await container.startContainer(p);
    await faults([
      { method: 'POST', path: '/status/shutdown$', failTask: 'shutdown timed out', times: 1 },
    ]);
    expect(await container.stopContainer(p)).toEqual({ stopped: true, forced: true });
    const sim = await fx.state();
    expect(sim.containers.find((c) => c.vmid === p.vmid)?.status).toBe('stopped');
    await compensate(deploy, p);
    await expectNothingLeft(p);
  });

  it('compensation during a create left running waits for it, then destroys the container', async () => {
    const { deploy } = build();
    const p = await plan();
    await fx.control('POST', '/_sim/latency', { taskMs: 300 });
    await new ProxmoxApiGateway().createContainer(p.target.connection, {
      ...p.container,
      node: 'pve1',
      vmid: p.vmid,
      hostname: p.hostname,
      password: ROOT_PASSWORD,
      features: 'nesting=1',
      tags: ['proximity', `proximity-${p.applicationId}`],
      description: 'x',
    });
    expect((await fx.state()).containers.find((c) => c.vmid === p.vmid)?.locked).toBe('create');
    await compensate(deploy, p);
    await expectNothingLeft(p);
  });

  it('a compensation step that fails once is retryable and completes on its next run', async () => {
    const { deploy } = build();
    const p = await plan();
    await runSteps(deploy, p);
    await faults([{ method: 'DELETE', path: `/lxc/${p.vmid}$`, failTask: true, times: 1 }]);
    const error = await failure(compensate(deploy, p));
    expect(classifyFailure(error)).toBe('retryable');
    await compensate(deploy, p);
    await expectNothingLeft(p);
  });

  describe('injected failures: the right class, and nothing left after compensation', () => {
    type Case = {
      step: (typeof DEPLOY_STEP_NAMES)[number];
      fault: Record<string, unknown>;
      expected: 'retryable' | 'permanent';
      kind?: string;
      probe?: PortProbe;
      timings?: DeployTimings;
    };
    const cases: Case[] = [
      {
        step: 'create_container',
        fault: { method: 'POST', path: '/lxc$', failTask: true },
        expected: 'retryable',
        kind: ProxmoxErrorKind.TaskFailed,
      },
      {
        step: 'create_container',
        fault: { method: 'POST', path: '/lxc$', status: 500, message: 'internal error' },
        expected: 'retryable',
        kind: ProxmoxErrorKind.Failed,
      },
      {
        step: 'create_container',
        fault: {
          method: 'POST',
          path: '/lxc$',
          status: 500,
          message: "can't lock file '/run/lock/lxc/pve-config-1.lock' - got timeout",
        },
        expected: 'retryable',
        kind: ProxmoxErrorKind.Busy,
      },
      {
        step: 'start_container',
        fault: { method: 'POST', path: '/status/start$', failTask: 'startup for container failed' },
        expected: 'retryable',
        kind: ProxmoxErrorKind.TaskFailed,
      },
      {
        step: 'start_container',
        fault: { method: 'GET', path: '/status/current$', delayMs: 3_000 },
        expected: 'retryable',
        kind: ProxmoxErrorKind.Timeout,
      },
      {
        step: 'wait_for_address',
        fault: {
          method: 'GET',
          path: '/interfaces$',
          data: [{ name: 'lo', hwaddr: '00:00:00:00:00:00', inet: '127.0.0.1/8' }],
        },
        expected: 'retryable',
        kind: DeployErrorCode.NoAddress,
        timings: DeployTimings.with({ ...timings, addressDeadlineMs: 300 }),
      },
      {
        step: 'install_docker',
        fault: { sshCommand: 'get.docker.com', dropConnection: true },
        expected: 'retryable',
        kind: 'CONNECTION_LOST',
      },
      {
        step: 'write_files',
        fault: { sshCommand: 'proximity-tmp', status: 1, message: `disk full near ${DB_PASSWORD}` },
        expected: 'retryable',
        kind: 'COMMAND_FAILED',
      },
      {
        step: 'compose_up',
        fault: {
          sshCommand: "'up' '-d'",
          status: 1,
          message: 'Bind for 0.0.0.0:2368 failed: port is already allocated',
        },
        expected: 'retryable',
        kind: 'COMMAND_FAILED',
      },
      {
        step: 'verify',
        fault: {},
        expected: 'retryable',
        kind: DeployErrorCode.PortsSilent,
        probe: new SilentProbe(),
      },
      {
        step: 'forward_ports',
        fault: { sshCommand: "'nft' 'add' 'rule'", dropConnection: true },
        expected: 'retryable',
        kind: 'CONNECTION_LOST',
      },
      {
        step: 'forward_ports',
        fault: {
          sshCommand: "'nft' 'add' 'table'",
          status: 1,
          message: 'Error: Could not process rule: Operation not permitted',
        },
        expected: 'retryable',
        kind: 'COMMAND_FAILED',
      },
    ];

    it.each(cases)(
      '$step with $kind',
      async ({ step, fault, expected, kind, probe, timings: t }) => {
        const { deploy } = build({ probe, timings: t });
        const p = await plan();
        const index = DEPLOY_STEP_NAMES.indexOf(step);
        const state = await runSteps(deploy, p, index);
        if (Object.keys(fault).length > 0) await faults([fault]);
        const error = await failure(deploy.steps[index].run(p, state));
        const errorKind =
          (error as DeployStepError).code ??
          (error as ProxmoxError).kind ??
          (error as NodeShellError).kind;
        expect([errorKind, classifyFailure(error)]).toEqual([kind, expected]);
        for (const secret of SECRETS) expect(visible(error)).not.toContain(secret);
        await fx.control('DELETE', '/_sim/faults');
        await compensate(deploy, p);
        await expectNothingLeft(p);
      },
    );

    it('a one-time failure passes on the retry of its step, with exactly one container', async () => {
      const { deploy } = build();
      const p = await plan();
      await faults([
        { method: 'POST', path: '/status/start$', failTask: true, times: 1 },
        { sshCommand: "'up' '-d'", dropConnection: true, times: 1 },
      ]);
      let state: DeployState = {};
      for (const step of deploy.steps) {
        try {
          state = await step.run(p, state);
        } catch (error) {
          expect(classifyFailure(error)).toBe('retryable');
          state = await step.run(p, state);
        }
      }
      const sim = await fx.state();
      expect(sim.containers.filter((c) => c.vmid === p.vmid)).toMatchObject([
        { status: 'running' },
      ]);
      expect((await fetch(`http://127.0.0.1:${p.ports[0].publicPort}/`)).status).toBe(200);
      await compensate(deploy, p);
      await expectNothingLeft(p);
    });
  });

  it('no secret reaches a URL, a command line or an error text', async () => {
    // The simulator tests these rules against every request path and every SSH command line.
    const escaped = SECRETS.map((s) => s.replace(/[-]/g, '\\-'));
    await faults(
      escaped.flatMap((s) => [
        { path: s, status: 599, message: 'secret in a path' },
        { sshCommand: s, status: 99, message: 'secret on a command line' },
      ]),
    );
    const { deploy } = build();
    const p = await plan('ticket');
    await runSteps(deploy, p);
    const fired = ((await fx.control('GET', '/_sim/faults')).body as { rules: { fired: number }[] })
      .rules;
    expect(fired.map((r) => r.fired)).toEqual(escaped.flatMap(() => [0, 0]));
    await fx.control('DELETE', '/_sim/faults');

    // Proxmox echoing the body's password in an error: our error does not carry it on.
    await faults([
      { method: 'POST', path: '/lxc$', status: 400, message: `bad password ${ROOT_PASSWORD}` },
    ]);
    const other = await plan();
    const error = await failure(
      build().container.createContainer({ ...other, ...other.container }),
    );
    expect(error).toBeInstanceOf(ProxmoxError);
    expect(visible(error)).not.toContain(ROOT_PASSWORD);
    await compensate(deploy, p);
  });
});
