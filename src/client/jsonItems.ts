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
    // The state in locals while the piece is scanned (a history page is ~100 characters a point).
    let { depth, inList, inString, escaped, item, rest } = this;
    let copied = 0; // text before this is in `rest` or the item
    let itemFrom = 0;
    // The piece's items are parsed together: the one begun in an earlier piece, then the run of
    // those within it (only separators lie between them), with one JSON.parse.
    let carried: string | undefined;
    let runFrom = -1;
    let runTo = -1;
    const ended = (end: number): void => {
      if (this.itemText !== '') {
        carried = this.itemText + text.slice(0, end);
        this.itemText = '';
      } else {
        if (runFrom < 0) runFrom = itemFrom;
        runTo = end;
      }
      item = undefined;
      copied = end;
    };
    const n = text.length;
    for (let i = 0; i < n; i++) {
      if (inString) {
        // To the closing quote: one not escaped by an odd run of backslashes.
        if (escaped) {
          escaped = false;
          continue;
        }
        const q = text.indexOf('"', i);
        const to = q < 0 ? n : q;
        let slashes = 0;
        while (to - slashes - 1 >= i && text.charCodeAt(to - slashes - 1) === BACKSLASH) slashes++;
        if (q < 0) {
          escaped = slashes % 2 === 1;
          break;
        }
        if (slashes % 2 === 0) inString = false;
        i = q;
        continue;
      }
      const c = text.charCodeAt(i);
      const atItems = depth === 2 && inList;
      if (c === QUOTE) {
        if (item === undefined && atItems) {
          rest += text.slice(copied, i);
          item = 'scalar';
          itemFrom = i;
        }
        inString = true;
      } else if (c === OPEN_OBJECT || c === OPEN_LIST) {
        if (item === undefined && atItems) {
          rest += text.slice(copied, i);
          item = 'container';
          itemFrom = i;
        }
        if (depth === 1) inList = c === OPEN_LIST;
        depth++;
      } else if (c === CLOSE_OBJECT || c === CLOSE_LIST) {
        if (item === 'scalar' && depth === 2) ended(i);
        depth--;
        if (item === 'container' && depth === 2) ended(i + 1);
      } else if (atItems && (c === COMMA || isSpace(c))) {
        if (item === 'scalar' && c === COMMA) ended(i);
        // The list's separators go with its items (not kept: a space in `rest` would hold its whole piece, a slice keeps its string).
        if (item === undefined) {
          rest += text.slice(copied, i);
          copied = i + 1;
        }
      } else if (item === undefined && atItems) {
        rest += text.slice(copied, i);
        item = 'scalar';
        itemFrom = i;
      }
    }
    if (item !== undefined) this.itemText += text.slice(itemFrom);
    else rest += text.slice(copied);
    Object.assign(this, { depth, inList, inString, escaped, item, rest });
    if (carried !== undefined) this.onItem(JSON.parse(carried));
    if (runFrom >= 0) for (const x of JSON.parse(`[${text.slice(runFrom, runTo)}]`) as unknown[]) this.onItem(x);
  }

  /** The object without its lists' items, once the whole text came. */
  end(): unknown {
    if (this.item !== undefined || this.depth !== 0) throw new SyntaxError('the JSON answer ended early');
    return this.rest.trim() === '' ? {} : JSON.parse(this.rest);
  }
}
