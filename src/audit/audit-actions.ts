/** Every action the audit log records; resource types beside them. */
export const AuditAction = {
  Login: 'auth.login',
  Logout: 'auth.logout',
  RefreshReuse: 'auth.refresh_reuse',
  PasswordChange: 'auth.password_change',
  TokenCreate: 'token.create',
  TokenDelete: 'token.delete',
  UserCreate: 'user.create',
  UserUpdate: 'user.update',
  UserDelete: 'user.delete',
  SettingsUpdate: 'settings.update',
  HostCreate: 'host.create',
  HostUpdate: 'host.update',
  HostDelete: 'host.delete',
  HostSync: 'host.sync',
  CatalogReload: 'catalog.reload',
  ApplicationCredentialsRead: 'application.credentials_read',
} as const;
