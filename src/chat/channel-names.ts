/**
 * A channel name both platforms accept: lowercase ASCII letters, digits, `-` and `_`, accents
 * folded (`Über` → `uber`), other runs of characters turned into one `-`, at most `maxLength`
 * characters. Adapters apply their own limit (Slack 80, Discord 100); the core names incident
 * channels with it too, so a name found again after a restart compares like with like.
 * @example fitChannelName('INC-2026-14 Ransomware at Port!', 80) // 'inc-2026-14-ransomware-at-port'
 */
export function fitChannelName(name: string, maxLength: number): string {
  const fitted = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, maxLength)
    .replace(/[-_]+$/, '');
  return fitted || 'channel';
}
