export const QueueName = {
  Maintenance: 'maintenance',
  Deploy: 'deploy',
  Lifecycle: 'lifecycle',
} as const;
