import { openStorage } from '../../src/db/client.js';
import type { FakeChannel, FakeSlack, FakeUser } from '../fakes/slack/index.js';
import { makeContact, makeOrganisation, makePerson } from '../support/factories.js';

/**
 * The workspace of the `ack` and `scale` benchmarks: twenty EST delegates who open incidents
 * from #ops, and ACME's liaison, the `incident-response` contact every incident invites.
 */
export interface IncidentWorkspace {
  delegates: FakeUser[];
  liaison: FakeUser;
  ops: FakeChannel;
}

export function addIncidentWorkspace(fake: FakeSlack): IncidentWorkspace {
  const delegates = Array.from({ length: 20 }, (_, i) => fake.addUser({ name: `delegate${i}` }));
  const liaison = fake.addUser({ name: 'liaison' });
  const ops = fake.addChannel({
    name: 'ops',
    members: [fake.botUserId, ...delegates.map((d) => d.id)],
  });
  return { delegates, liaison, ops };
}

/** The directory behind the workspace, written once Concord has migrated the database. */
export async function seedIncidentDirectory(
  databaseUrl: string,
  workspace: IncidentWorkspace,
): Promise<void> {
  const storage = await openStorage({ databaseUrl });
  try {
    const est = await makeOrganisation(storage.db, { code: 'EST', kind: 'delegation' });
    const acme = await makeOrganisation(storage.db, { code: 'ACME' });
    for (const [i, d] of workspace.delegates.entries()) {
      await makePerson(storage.db, {
        handle: `delegate${i}`,
        orgId: est.id,
        role: 'delegate',
        slack: d.id,
      });
    }
    const contact = await makePerson(storage.db, {
      handle: 'liaison',
      orgId: acme.id,
      role: 'liaison',
      slack: workspace.liaison.id,
    });
    await makeContact(storage.db, { orgId: acme.id, personId: contact.id });
  } finally {
    await storage.close();
  }
}

/**
 * The form body of the i-th `/incident open <label> <i> severity:high orgs:ACME`, sent by the
 * delegates in turn. Its channel is `inc-<year>-<seq>-<label>-<i>`, which `commandIndex` reads.
 */
export const openIncidentCommand =
  (fake: FakeSlack, workspace: IncidentWorkspace, label: string) => (i: number) =>
    fake.prepareCommand({
      command: '/incident',
      text: `open ${label} ${i} severity:high orgs:ACME`,
      user_id: workspace.delegates[i % workspace.delegates.length]?.id as string,
      channel_id: workspace.ops.id,
    }).body;

/** The command index an incident channel's name ends with, for `label` (`-load-12`: 12). */
export function commandIndex(channelName: string, label: string): number | undefined {
  const match = new RegExp(`-${label.toLowerCase()}-(\\d+)$`).exec(channelName);
  return match ? Number(match[1]) : undefined;
}
