import { ApiProperty } from '@nestjs/swagger';

/** One live reading of an application's container, from Proxmox's `status/current`. */
export class ApplicationMetricsDto {
  @ApiProperty({ enum: ['running', 'stopped', 'unknown'] })
  status!: 'running' | 'stopped' | 'unknown';

  @ApiProperty({
    example: 0.02,
    description: 'CPU use as Proxmox reports it: a fraction of the cores the container may use',
  })
  cpu!: number;

  @ApiProperty({ description: 'Bytes' }) memoryUsed!: number;
  @ApiProperty({ description: 'Bytes' }) memoryTotal!: number;
  @ApiProperty({ description: 'Bytes' }) diskUsed!: number;
  @ApiProperty({ description: 'Bytes' }) diskTotal!: number;
  @ApiProperty({ description: 'Seconds since the container started; 0 when stopped' })
  uptime!: number;

  @ApiProperty({ description: 'Bytes received since the container started' }) netIn!: number;
  @ApiProperty({ description: 'Bytes sent since the container started' }) netOut!: number;
}
