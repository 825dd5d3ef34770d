import { Module } from '@nestjs/common';
import { NodeShell } from './node-shell';
import { Ssh2NodeShell } from './ssh2-node-shell';

@Module({
  providers: [{ provide: NodeShell, useClass: Ssh2NodeShell }],
  exports: [NodeShell],
})
export class ShellModule {}
