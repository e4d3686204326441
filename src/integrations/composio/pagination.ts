// Following Composio's opaque cursors to the end of a list, one page at a time.
import { ComposioError } from './errors.ts';
import type { Page } from './schemas.ts';

/**
 * Yields every item of every page, fetching the next page only when the caller gets
 * there. A cursor that comes back a second time would loop forever, so it is a permanent
 * error naming `next_cursor` rather than a hang.
 */
export async function* paginate<T>(operation: string, fetchPage: (cursor: string | undefined) => Promise<Page<T>>, firstCursor?: string): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>(firstCursor === undefined ? [] : [firstCursor]);
  let cursor = firstCursor;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.next_cursor === null || page.next_cursor === '') return;
    if (seen.has(page.next_cursor)) {
      throw new ComposioError('permanent', `Composio ${operation}: next_cursor repeats a cursor already followed`, {
        operation, failure: 'invalid_response', path: 'next_cursor',
      });
    }
    seen.add(page.next_cursor);
    cursor = page.next_cursor;
  }
}
