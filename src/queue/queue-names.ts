export const QueueName = {
  Maintenance: 'maintenance',
  Deploy: 'deploy',
} as const;
