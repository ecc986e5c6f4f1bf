import { fitChannelName } from '../../chat/channel-names.js';

/** Slack allows 80 characters in a channel name, Discord 100: the name fits the stricter. */
export const CHANNEL_NAME_MAX = 80;

/** `Ransomware at Port of Tallinn!` → `ransomware-at-port-of-tallinn`: lowercase ASCII words. */
export const slugify = (title: string) =>
  fitChannelName(title.replace(/_/g, ' '), CHANNEL_NAME_MAX);

/**
 * `inc-<year>-<seq>-<slug>` within CHANNEL_NAME_MAX, leaving room for a `-NN` suffix should the
 * name be taken. The slug is cut at a word boundary where it can be.
 */
export function incidentChannelName(ref: string, title: string): string {
  const [, year, seq] = ref.split('-');
  const head = `inc-${year}-${seq}`;
  const room = CHANNEL_NAME_MAX - head.length - 1 - 3;
  let slug = slugify(title);
  if (slug.length > room) {
    slug = slug.slice(0, room);
    const cut = slug.lastIndexOf('-');
    slug = cut > room / 2 ? slug.slice(0, cut) : slug.replace(/-+$/, '');
  }
  return slug ? `${head}-${slug}` : head;
}

/** The name to try after `attempt` refusals: `name`, `name-2`, `name-3`, … */
export const suffixedName = (name: string, attempt: number) =>
  attempt === 0 ? name : `${name}-${attempt + 1}`;
