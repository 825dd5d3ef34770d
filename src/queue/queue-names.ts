export const QueueName = {
  Maintenance: 'maintenance',
  Deploy: 'deploy',
  Lifecycle: 'lifecycle',
  Backup: 'backup',
} as const;
