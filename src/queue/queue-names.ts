export const QueueName = {
  Maintenance: 'maintenance',
} as const;
