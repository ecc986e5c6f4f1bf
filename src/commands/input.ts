import type { LocalDate, LocalDateTime, Mention, When } from './values.js';

export type OptionValue =
  | { type: 'string'; value: string }
  | { type: 'strings'; value: string[] }
  | { type: 'mention'; value: Mention }
  | { type: 'mentions'; value: Mention[] }
  | { type: 'datetime'; value: LocalDateTime }
  | { type: 'when'; value: When }
  | { type: 'date'; value: LocalDate }
  | { type: 'duration'; value: number }
  | { type: 'durations'; value: number[] }
  | { type: 'boolean'; value: boolean };

interface ValueTypes {
  string: string;
  strings: string[];
  mention: Mention;
  mentions: Mention[];
  datetime: LocalDateTime;
  when: When;
  date: LocalDate;
  duration: number;
  durations: number[];
  boolean: boolean;
}

/** A parsed command: which spec it names, and its values by option name, already typed. */
export class CommandInput {
  constructor(
    readonly command: string,
    readonly subcommand: string,
    readonly values: ReadonlyMap<string, OptionValue>,
  ) {}

  private get<K extends keyof ValueTypes>(name: string, type: K): ValueTypes[K] | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (v.type !== type) throw new Error(`option ${name} is ${v.type}, not ${type}`);
    const value: unknown = v.value;
    return value as ValueTypes[K];
  }

  private need<T>(name: string, value: T | undefined): T {
    // The parser enforces `required`; reaching this is a spec/handler mismatch, a bug.
    if (value === undefined) throw new Error(`required option ${name} missing after parsing`);
    return value;
  }

  string(name: string) {
    return this.get(name, 'string');
  }
  requireString(name: string) {
    return this.need(name, this.string(name));
  }
  strings(name: string) {
    return this.get(name, 'strings');
  }
  mention(name: string) {
    return this.get(name, 'mention');
  }
  requireMention(name: string) {
    return this.need(name, this.mention(name));
  }
  mentions(name: string) {
    return this.get(name, 'mentions');
  }
  datetime(name: string) {
    return this.get(name, 'datetime');
  }
  when(name: string) {
    return this.get(name, 'when');
  }
  requireWhen(name: string) {
    return this.need(name, this.when(name));
  }
  date(name: string) {
    return this.get(name, 'date');
  }
  duration(name: string) {
    return this.get(name, 'duration');
  }
  durations(name: string) {
    return this.get(name, 'durations');
  }
  boolean(name: string) {
    return this.get(name, 'boolean');
  }
}
