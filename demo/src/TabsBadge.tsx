import { useEffect, useState } from 'react';
import { transportOf, type KalamClient } from '@kalamlite/worker';
import { ADMIN_USER } from './schema';

interface TabsStatus {
  clients: number | undefined;
  isHost: boolean;
  failovers: number;
}

const TRANSPORT_LABEL = {
  'shared-worker': 'SharedWorker',
  leader: 'leader tab',
  worker: 'this tab only',
  local: 'in page',
} as const;

/** How often the connected-client count is read from system.stats (it changes without commits). */
const POLL_MS = 1000;

/**
 * Shows that every tab shares one engine: how many clients are connected
 * to it, how this tab reaches it, and whether this tab hosts it.
 */
export function TabsBadge({ client }: { client: KalamClient }) {
  const transport = transportOf(client);
  const [status, setStatus] = useState<TabsStatus>({ clients: undefined, isHost: transport.isHost, failovers: transport.failovers });

  useEffect(() => {
    const admin = client.session({ user: ADMIN_USER, role: 'dba' });
    let isCurrent = true;
    const read = async () => {
      try {
        const result = await admin.query("SELECT metric_value FROM system.stats WHERE metric_name = 'clients_connected'");
        const value = result.rows[0]?.metric_value;
        if (!isCurrent) return;
        setStatus({ clients: value === undefined || value === null ? undefined : Number(value), isHost: transport.isHost, failovers: transport.failovers });
      } catch {
        // A read during a failover fails with LEADER_CHANGED; the next poll reads from the new host.
      }
    };
    void read();
    const timer = setInterval(read, POLL_MS);
    return () => {
      isCurrent = false;
      clearInterval(timer);
    };
  }, [client, transport]);

  const tabs = status.clients;
  return (
    <div className="tabs-badge" data-testid="tabs-badge" data-clients={tabs ?? ''} data-host={String(status.isHost)} data-transport={transport.kind}>
      <strong data-testid="tabs-count">{tabs === undefined ? '…' : `${tabs} ${tabs === 1 ? 'tab' : 'tabs'}`}</strong>
      <span>
        one database via {TRANSPORT_LABEL[transport.kind]}
        {status.isHost ? ' · hosted here' : ''}
        {status.failovers > 0 ? ` · took over ${status.failovers}×` : ''}
      </span>
      {tabs === 1 && <span className="tabs-hint">Open this page in a second tab: changes appear in both.</span>}
    </div>
  );
}
