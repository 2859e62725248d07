/**
 * The part of html-to-text (v10) that `context/documents.ts` uses. The package ships no typings, and
 * @types/html-to-text describes v9, whose API v10 keeps unchanged.
 */
declare module "html-to-text" {
  /** Converts an HTML document or fragment to plain text. */
  export function convert(html: string, options?: Record<string, unknown>): string;
}
