// The one error the Composio client throws. `kind` is what a caller branches on (the
// outbox worker maps it onto its own retry/DLQ/conflict outcomes); the rest says what
// happened, for logs and people. Nothing here ever holds the API key: messages are built
// from the method, the path and the provider's own error text, and that text is redacted
// by the client before it gets here (a provider may echo a header back).

/**
 *   retryable — try again later: 408, 429, 5xx, a timeout, a network failure, a caller abort;
 *   permanent — it will fail the same way again: other 4xx, a response that is not what
 *               the API documents (validation);
 *   conflict  — 409: the provider refused because of a conflicting state; do not retry;
 *   auth      — 401/403: Steward's own Composio key is missing, wrong or not allowed.
 */
export type ComposioErrorKind = 'retryable' | 'permanent' | 'conflict' | 'auth';

/** What went wrong underneath: an HTTP answer, or no usable answer at all. */
export type ComposioFailure = 'http' | 'timeout' | 'aborted' | 'network' | 'invalid_response';

export interface ComposioErrorDetails {
  /** `GET /tools/{slug}` with the slug filled in; never the query string or a header. */
  operation: string;
  failure: ComposioFailure;
  status?: number;
  /** The provider's numeric error code (`error.code`), e.g. 1803 for an unknown account. */
  code?: number;
  /** The provider's symbolic error name (`error.slug`), when it sends one. */
  slug?: string;
  /** The provider's own message (`error.message`, or a flat `message`). */
  providerMessage?: string;
  /** The provider's per-field complaints (`error.errors`), e.g. argument validation. */
  errors?: string[];
  requestId?: string;
  retryAfterMs?: number;
  /** For `invalid_response`: the path in the body that failed, `items.0.slug`; '' for the root. */
  path?: string;
  cause?: unknown;
}

export class ComposioError extends Error {
  override readonly name = 'ComposioError';
  readonly kind: ComposioErrorKind;
  readonly failure: ComposioFailure;
  readonly operation: string;
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly slug: string | undefined;
  readonly providerMessage: string | undefined;
  readonly errors: string[] | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly path: string | undefined;

  constructor(kind: ComposioErrorKind, message: string, details: ComposioErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.failure = details.failure;
    this.operation = details.operation;
    this.status = details.status;
    this.code = details.code;
    this.slug = details.slug;
    this.providerMessage = details.providerMessage;
    this.errors = details.errors;
    this.requestId = details.requestId;
    this.retryAfterMs = details.retryAfterMs;
    this.path = details.path;
  }

  /** For structured logs: the fields, without the stack or the cause. */
  toJSON(): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      name: this.name, kind: this.kind, failure: this.failure, operation: this.operation, message: this.message,
      status: this.status, code: this.code, slug: this.slug, providerMessage: this.providerMessage,
      errors: this.errors, requestId: this.requestId, retryAfterMs: this.retryAfterMs, path: this.path,
    };
    return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  }
}

/**
 * The kind an HTTP error status maps to. `shouldRetry` is the `x-should-retry` header
 * (Composio's own clients obey it): it may turn a permanent status retryable or the
 * reverse, but never changes auth or conflict, which mean the same whatever the hint.
 */
export function kindOfStatus(status: number, shouldRetry?: boolean): ComposioErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 409) return 'conflict';
  if (shouldRetry !== undefined) return shouldRetry ? 'retryable' : 'permanent';
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

/** Replaces every occurrence of `secret` in `text`; a no-op for an empty secret. */
export function redact(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('[redacted]');
}
