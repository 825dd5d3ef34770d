/** Everything needed to reach one Proxmox API endpoint; built from a host row, never logged. */
export interface ProxmoxConnection {
  host: string;
  port: number;
  auth: { tokenId: string; tokenSecret: string } | { username: string; password: string };
  tls: { fingerprint: string } | { caCert: string } | { insecure: true };
  /** Budget of one HTTP call, connect included. */
  timeoutMs: number;
  /** Ends the call and any retry when it aborts, e.g. an overall deadline across several calls. */
  signal?: AbortSignal;
}
