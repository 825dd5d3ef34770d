import type { Component } from 'svelte';
import Account from './Account.svelte';
import Admin from './Admin.svelte';
import AdminAudit from './AdminAudit.svelte';
import AdminDiscover from './AdminDiscover.svelte';
import AdminHost from './AdminHost.svelte';
import AdminHosts from './AdminHosts.svelte';
import AdminPorts from './AdminPorts.svelte';
import AdminSettings from './AdminSettings.svelte';
import AdminUser from './AdminUser.svelte';
import AdminUsers from './AdminUsers.svelte';
import AppBackups from './AppBackups.svelte';
import AppPage from './AppPage.svelte';
import Catalog from './Catalog.svelte';
import CatalogApp from './CatalogApp.svelte';
import Deploy from './Deploy.svelte';
import Login from './Login.svelte';
import MyApps from './MyApps.svelte';

type Screen = Component<{ id: string }>;

/**
 * A screen without props ignores the `id` the shell passes to every screen. svelte-check knows
 * each component's props and needs this; ESLint sees every `.svelte` import as the bare type.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
const plain = (screen: Component): Screen => screen as unknown as Screen;

export interface Route {
  pattern: string;
  title: string;
  /** Screens with a `:id` in their path take it as a prop; the others ignore it. */
  screen: Screen;
  /** Who may open it: anyone, a logged-in person, or an administrator. */
  access: 'public' | 'user' | 'admin';
}

/** Every screen of the UI; the first match wins, and nothing matching shows the 404 page. */
export const ROUTES: Route[] = [
  { pattern: '/login', title: 'Log in', screen: plain(Login), access: 'public' },
  { pattern: '/catalog', title: 'Catalog', screen: plain(Catalog), access: 'public' },
  { pattern: '/catalog/:id', title: 'Catalog app', screen: CatalogApp, access: 'public' },
  { pattern: '/catalog/:id/deploy', title: 'Deploy', screen: Deploy, access: 'user' },
  { pattern: '/apps', title: 'My apps', screen: plain(MyApps), access: 'user' },
  { pattern: '/apps/:id', title: 'App', screen: AppPage, access: 'user' },
  { pattern: '/apps/:id/backups', title: 'Backups', screen: AppBackups, access: 'user' },
  { pattern: '/account', title: 'Account', screen: plain(Account), access: 'user' },
  { pattern: '/admin', title: 'Administration', screen: plain(Admin), access: 'admin' },
  { pattern: '/admin/hosts', title: 'Proxmox hosts', screen: plain(AdminHosts), access: 'admin' },
  { pattern: '/admin/hosts/:id', title: 'Proxmox host', screen: AdminHost, access: 'admin' },
  { pattern: '/admin/users', title: 'Users', screen: plain(AdminUsers), access: 'admin' },
  { pattern: '/admin/users/:id', title: 'User', screen: AdminUser, access: 'admin' },
  { pattern: '/admin/settings', title: 'Settings', screen: plain(AdminSettings), access: 'admin' },
  { pattern: '/admin/audit', title: 'Audit log', screen: plain(AdminAudit), access: 'admin' },
  { pattern: '/admin/ports', title: 'Ports', screen: plain(AdminPorts), access: 'admin' },
  { pattern: '/admin/discover', title: 'Discover', screen: plain(AdminDiscover), access: 'admin' },
];
