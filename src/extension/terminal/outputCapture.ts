/** Keeps a process's terminal output for logging as an artifact: the head and the tail when it is long. */
const DEFAULT_LIMIT = 8 * 1024 * 1024;

export class OutputCapture {
  private head = '';
  private tail: string[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  append(text: string): void {
    const half = this.limit / 2;
    if (this.head.length < half) {
      const take = text.slice(0, half - this.head.length);
      this.head += take;
      text = text.slice(take.length);
    }
    if (!text) return;
    this.tail.push(text);
    this.tailBytes += text.length;
    while (this.tailBytes > half && this.tail.length > 1) {
      const gone = this.tail.shift()!;
      this.tailBytes -= gone.length;
      this.dropped += gone.length;
    }
  }

  /** The captured text with ANSI escapes removed (the artifact is read as plain text). */
  text(): string {
    const gap = this.dropped ? `\n… [${this.dropped} characters omitted] …\n` : '';
    // eslint-disable-next-line no-control-regex
    return (this.head + gap + this.tail.join('')).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }
}
