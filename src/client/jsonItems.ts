/**
 * A JSON object read as it arrives, whose top-level lists can be long (a metric history page:
 * `{"metrics": [{…}, …], "next_page_token": "…"}`, all of a run's points at once from a 2.x
 * server): each item of a top-level list is handed over as soon as it is complete and then
 * dropped, and only the rest of the object is kept (its lists empty), so the answer is never held
 * whole, as text or as objects.
 */
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_LIST = 91;
const CLOSE_LIST = 93;

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 13 || c === 9;

export class JsonItems {
  /** Nesting of objects and lists (1 inside the top-level object, 2 inside one of its lists). */
  private depth = 0;
  /** Whether what was opened at depth 1 is a list (its items are handed over) rather than an object. */
  private inList = false;
  private inString = false;
  private escaped = false;
  /** Inside a list item: a container (object, list) or a scalar (ends at the next comma or the list's end). */
  private item: 'container' | 'scalar' | undefined;
  /** The item's text from earlier pieces. */
  private itemText = '';
  /** The object without its lists' items. */
  private rest = '';

  constructor(private readonly onItem: (item: unknown) => void) {}

  /** The next piece of the text. Throws what `onItem` throws, or a SyntaxError for an item that is not JSON. */
  push(text: string): void {
    let copied = 0; // text before this is in `rest` or the item
    let itemFrom = 0;
    const startItem = (i: number, kind: 'container' | 'scalar'): void => {
      this.rest += text.slice(copied, i);
      this.item = kind;
      itemFrom = i;
    };
    // The piece's items are parsed together (one JSON.parse, not one per item).
    const done: string[] = [];
    const endItem = (end: number): void => {
      done.push(this.itemText + text.slice(itemFrom, end));
      this.itemText = '';
      this.item = undefined;
      copied = end;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) {
        if (this.item === undefined && this.depth === 2 && this.inList) startItem(i, 'scalar');
        this.inString = true;
      } else if (c === OPEN_OBJECT || c === OPEN_LIST) {
        if (this.item === undefined && this.depth === 2 && this.inList) startItem(i, 'container');
        if (this.depth === 1) this.inList = c === OPEN_LIST;
        this.depth++;
      } else if (c === CLOSE_OBJECT || c === CLOSE_LIST) {
        if (this.item === 'scalar' && this.depth === 2) endItem(i);
        this.depth--;
        if (this.item === 'container' && this.depth === 2) endItem(i + 1);
      } else if ((c === COMMA || isSpace(c)) && this.depth === 2 && this.inList) {
        if (this.item === 'scalar' && c === COMMA) endItem(i);
        // The list's separators go with its items (kept, a space each would hold its whole piece: a slice keeps its string).
        if (this.item === undefined) {
          this.rest += text.slice(copied, i);
          copied = i + 1;
        }
      } else if (this.item === undefined && this.depth === 2 && this.inList) startItem(i, 'scalar');
    }
    if (this.item !== undefined) this.itemText += text.slice(itemFrom);
    else this.rest += text.slice(copied);
    if (done.length > 0) for (const item of JSON.parse(`[${done.join(',')}]`) as unknown[]) this.onItem(item);
  }

  /** The object without its lists' items, once the whole text came. */
  end(): unknown {
    if (this.item !== undefined || this.depth !== 0) throw new SyntaxError('the JSON answer ended early');
    return this.rest.trim() === '' ? {} : JSON.parse(this.rest);
  }
}
