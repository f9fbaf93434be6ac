// The part of cli-progress (which ships no types) that the client uses.
declare module 'cli-progress' {
  export interface BarOptions {
    format?: string;
    stream?: NodeJS.WritableStream;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    etaBuffer?: number;
    formatValue?: (value: number, options: unknown, type: string) => string;
  }
  export class SingleBar {
    constructor(options: BarOptions, preset?: object);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(value: number, payload?: Record<string, unknown>): void;
    stop(): void;
  }
  export const Presets: { shades_classic: object; legacy: object };
  const cliProgress: { SingleBar: typeof SingleBar; Presets: typeof Presets };
  export default cliProgress;
}
