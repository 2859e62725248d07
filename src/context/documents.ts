/**
 * Documents as contexts: PDF, DOCX, HTML and Jupyter notebooks become text the model's code can
 * search and cite (PDF pages marked), CSV/TSV a list of dicts with conservatively inferred types.
 * Every format is read by a maintained library, imported on first use so a run over plain text never
 * loads one: unpdf (PDF.js) for PDF, mammoth for DOCX, html-to-text for HTML (and mammoth's HTML),
 * csv-parse for CSV/TSV; a notebook is JSON.
 */
import type { JsonValue } from "./context.ts";

/** What a loader knows of one document it read: told to the model beside the file's key. */
export interface FileNote {
  /** What the file is: "PDF", "DOCX", "HTML", "CSV", "TSV", "JSONL", "Jupyter notebook". */
  kind: string;
  /** Size of the file as read, in bytes. */
  bytes: number;
  /** Pages, for a PDF. */
  pages?: number;
  /** How much it holds besides pages, e.g. "120 rows, 4 columns" or "12 cells, python". */
  extent?: string;
  /** How the content is laid out, e.g. `each page begins with a line "--- page N of M ---"`. */
  layout?: string;
}

/** What a loader adds to a context's notes (`ContextNotes.files`): the documents it read. */
export interface DocumentNotes {
  /**
   * Files that were converted or parsed (a PDF, a CSV...), by their key in a dict context, or by the
   * file's name when the context is that one file.
   */
  files?: { readonly [key: string]: FileNote };
}

/** The file formats read as documents. JSONL is parsed by the loader itself (`load-context.ts`). */
export type DocumentKind = "pdf" | "docx" | "html" | "csv" | "tsv" | "jsonl" | "ipynb";

/** What the model is told a file is. */
export const KIND_NAMES: Readonly<Record<DocumentKind, string>> = {
  pdf: "PDF",
  docx: "DOCX",
  html: "HTML",
  csv: "CSV",
  tsv: "TSV",
  jsonl: "JSONL",
  ipynb: "Jupyter notebook",
};

const EXTENSIONS: Readonly<Record<string, DocumentKind>> = {
  pdf: "pdf",
  docx: "docx",
  html: "html",
  htm: "html",
  xhtml: "html",
  csv: "csv",
  tsv: "tsv",
  tab: "tsv",
  jsonl: "jsonl",
  ndjson: "jsonl",
  ipynb: "ipynb",
};

/** The first line of PDF page N of M: `--- page N of M ---`, alone on its line. */
function pageMarker(page: number, pages: number): string {
  return `--- page ${page} of ${pages} ---`;
}

/** How each kind's text is laid out, as the model is told it. */
export const LAYOUTS: Readonly<Record<"pdf" | "docx" | "html" | "ipynb", string>> = {
  pdf: 'each page begins with a line "--- page N of M ---"',
  docx: 'headings are lines starting with "#" (one per level), tables are aligned columns',
  html: 'the title is a first line "Title: ...", headings are lines starting with "#" (one per level), links read "text [url]"',
  ipynb:
    'each cell begins with a line "# [markdown]" or "# [code]"; a code cell\'s text output follows a line "# [output]" (images are left out)',
};

/** The kind of document a path names by its extension (a `.pdf`-less file starting `%PDF-` is a PDF too). */
export function documentKind(path: string, bytes?: Uint8Array): DocumentKind | undefined {
  const dot = path.lastIndexOf(".");
  const kind = dot > path.lastIndexOf("/") ? EXTENSIONS[path.slice(dot + 1).toLowerCase()] : undefined;
  if (kind) return kind;
  if (bytes && Buffer.from(bytes.subarray(0, 5)).toString("latin1") === "%PDF-") return "pdf";
  return undefined;
}

/** A document's text and what to tell the model about it. */
export interface DocumentText {
  text: string;
  note: FileNote;
}

/**
 * Extracts the text of a PDF, DOCX, HTML page or notebook (a CSV, TSV or JSONL file is its own text).
 * @throws Error whose message says why the file cannot be read, e.g. "encrypted (a password is needed)".
 */
export async function documentText(kind: DocumentKind, bytes: Uint8Array): Promise<DocumentText> {
  const note: FileNote = { kind: KIND_NAMES[kind], bytes: bytes.byteLength };
  switch (kind) {
    case "pdf": {
      const { pages, text, found } = await pdfText(bytes);
      const layout = found
        ? LAYOUTS.pdf
        : `${LAYOUTS.pdf}; no text was found in it (scanned pages? text in images is not recognised)`;
      return { text, note: { ...note, pages, layout } };
    }
    case "docx":
      return { text: await docxText(bytes), note: { ...note, layout: LAYOUTS.docx } };
    case "html":
      return { text: await htmlText(utf8(bytes), true), note: { ...note, layout: LAYOUTS.html } };
    case "ipynb": {
      const { text, cells, language } = notebookText(utf8(bytes));
      return {
        text,
        note: { ...note, extent: `${cells} cells${language ? `, ${language}` : ""}`, layout: LAYOUTS.ipynb },
      };
    }
    default:
      return { text: utf8(bytes), note };
  }
}

/** The pages' text, each after its marker; `found` is false when no page holds any text. */
async function pdfText(bytes: Uint8Array): Promise<{ pages: number; text: string; found: boolean }> {
  const { getDocumentProxy, extractText } = await import("unpdf");
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // A copy: PDF.js may detach the buffer it is given.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    const name = (error as Error).name;
    if (name === "PasswordException") throw new Error("encrypted (a password is needed)", { cause: error });
    throw new Error(`corrupt or not a PDF: ${reason(error)}`, { cause: error });
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    const body = text.map((page, i) => `${pageMarker(i + 1, totalPages)}\n${page.trimEnd()}\n`).join("\n");
    return { pages: totalPages, text: body, found: text.some((page) => page.trim() !== "") };
  } finally {
    await pdf.loadingTask.destroy();
  }
}

async function docxText(bytes: Uint8Array): Promise<string> {
  const mammoth = (await import("mammoth")).default;
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (error) {
    throw new Error(`corrupt or not a DOCX file: ${reason(error)}`, { cause: error });
  }
  return htmlText(html, false);
}

/** Readable text of an HTML document: headings as `#` lines, tables aligned, scripts and images left out. */
async function htmlText(html: string, withTitle: boolean): Promise<string> {
  const { convert } = await import("html-to-text");
  const text = convert(html, {
    wordwrap: false,
    baseElements: { selectors: withTitle ? ["title", "body"] : ["body"], returnDomByDefault: true },
    formatters: { rlmHeading: headingFormatter, rlmTitle: titleFormatter },
    selectors: [
      ...["h1", "h2", "h3", "h4", "h5", "h6"].map((selector) => ({ selector, format: "rlmHeading" })),
      { selector: "title", format: "rlmTitle" },
      {
        selector: "table",
        format: "dataTable",
        options: { uppercaseHeaderCells: false, maxColumnWidth: 500 },
      },
      { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
      { selector: "img", format: "skip" },
      { selector: "noscript", format: "skip" },
    ],
  });
  return `${text.replace(/\n{3,}/g, "\n\n").trim()}\n`;
}

/** The slice of html-to-text's BlockTextBuilder its formatters use. */
interface TextBuilder {
  openBlock(options: { leadingLineBreaks: number }): void;
  addInline(text: string): void;
  closeBlock(options: { trailingLineBreaks: number }): void;
}
type Walk = (nodes: unknown, builder: TextBuilder) => void;

function headingFormatter(elem: { name: string; children: unknown }, walk: Walk, builder: TextBuilder): void {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addInline(`${"#".repeat(Number(elem.name.slice(1)) || 1)} `);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
}

function titleFormatter(elem: { children: unknown }, walk: Walk, builder: TextBuilder): void {
  builder.openBlock({ leadingLineBreaks: 1 });
  builder.addInline("Title: ");
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
}

/**
 * A notebook (nbformat 4) as text: each cell after a `# [markdown]`, `# [code]` or `# [raw]` line, and
 * a code cell's text outputs (streams, `text/plain` results, errors as `Name: value`) after `# [output]`.
 */
function notebookText(json: string): { text: string; cells: number; language: string | undefined } {
  let notebook: unknown;
  try {
    notebook = JSON.parse(json);
  } catch (error) {
    throw new Error(`not valid JSON: ${reason(error)}`, { cause: error });
  }
  const cells = isRecord(notebook) && Array.isArray(notebook.cells) ? notebook.cells : undefined;
  if (!isRecord(notebook) || !cells)
    throw new Error("no list of cells (notebooks in nbformat 4 are read, older ones are not)");
  const parts: string[] = [];
  for (const cell of cells) {
    if (!isRecord(cell)) continue;
    const type = typeof cell.cell_type === "string" ? cell.cell_type : "raw";
    parts.push(`# [${type}]\n${joined(cell.source).trimEnd()}\n`);
    const outputs = Array.isArray(cell.outputs) ? cell.outputs.map(outputText).filter((t) => t !== "") : [];
    if (outputs.length > 0) parts.push(`# [output]\n${outputs.join("\n").trimEnd()}\n`);
  }
  const metadata = isRecord(notebook.metadata) ? notebook.metadata : {};
  const info = isRecord(metadata.language_info) ? metadata.language_info : {};
  const kernel = isRecord(metadata.kernelspec) ? metadata.kernelspec : {};
  const language = [info.name, kernel.language].find((v): v is string => typeof v === "string");
  return { text: parts.join("\n"), cells: cells.length, language };
}

function outputText(output: unknown): string {
  if (!isRecord(output)) return "";
  if (output.output_type === "stream") return joined(output.text);
  if (output.output_type === "error") return `${String(output.ename)}: ${String(output.evalue)}`;
  const data = isRecord(output.data) ? output.data : {};
  return joined(data["text/plain"]);
}

/** nbformat stores text as a string or a list of lines. */
function joined(source: unknown): string {
  if (typeof source === "string") return source;
  return Array.isArray(source) ? source.filter((s) => typeof s === "string").join("") : "";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A CSV/TSV file's rows and what to tell the model about them. */
export interface DocumentTable {
  rows: { [column: string]: JsonValue }[];
  note: FileNote;
}

type ColumnType = "int" | "float" | "str" | "empty";

/**
 * A CSV or TSV file as a list of dicts, one per row, keyed by the first row (a blank header is
 * `column_N`, a repeated one gets `_2`, `_3`...; cells past the header are `column_N` too). Types are
 * inferred conservatively, per column: int when every non-empty cell is a whole number (no leading
 * zeros, within 2^53), float when every one is a decimal number, else str; an empty cell is null.
 * @throws Error naming the line csv-parse could not read.
 */
export async function readTable(bytes: Uint8Array, kind: "csv" | "tsv"): Promise<DocumentTable> {
  const { parse } = await import("csv-parse/sync");
  let records: string[][];
  try {
    records = parse(Buffer.from(bytes), {
      delimiter: kind === "tsv" ? "\t" : ",",
      bom: true,
      relax_column_count: true,
      relax_quotes: kind === "tsv",
      skip_empty_lines: true,
    });
  } catch (error) {
    throw new Error(`not valid ${KIND_NAMES[kind]}: ${reason(error)}`, { cause: error });
  }
  const [header = [], ...body] = records;
  let width = header.length;
  for (const record of body) width = Math.max(width, record.length);
  const names = columnNames(header, width);
  const types = names.map((_, column) => columnType(body, column));
  const rows = body.map((record) => {
    const row: { [column: string]: JsonValue } = {};
    for (const [column, name] of names.entries()) row[name] = cell(record[column], types[column] ?? "str");
    return row;
  });
  const shown = names
    .slice(0, 30)
    .map((name, i) => `${name} (${types[i] === "empty" ? "always empty" : types[i]})`);
  const more = names.length > 30 ? `, and ${names.length - 30} more` : "";
  return {
    rows,
    note: {
      kind: KIND_NAMES[kind],
      bytes: bytes.byteLength,
      extent: `${rows.length} rows, ${names.length} columns`,
      layout: `a list of dicts, one per row, keyed by the header row; columns: ${shown.join(", ")}${more}; empty cells are None`,
    },
  };
}

function columnNames(header: readonly string[], width: number): string[] {
  const seen = new Map<string, number>();
  return Array.from({ length: width }, (_, i) => {
    const base = header[i]?.trim() || `column_${i + 1}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}_${count}`;
  });
}

const INTEGER = /^[-+]?(0|[1-9]\d*)$/;
const DECIMAL = /^[-+]?((0|[1-9]\d*)(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function columnType(body: readonly string[][], column: number): ColumnType {
  let type: ColumnType = "empty";
  for (const record of body) {
    const value = record[column]?.trim();
    if (!value) continue;
    if (INTEGER.test(value)) {
      // Beyond 2^53 a number would silently change (an id, an account number): kept as written.
      if (!Number.isSafeInteger(Number(value))) return "str";
      if (type === "empty") type = "int";
    } else if (DECIMAL.test(value) && Number.isFinite(Number(value))) {
      type = "float";
    } else return "str";
  }
  return type;
}

function cell(value: string | undefined, type: ColumnType): JsonValue {
  if (value === undefined || value.trim() === "") return null;
  return type === "int" || type === "float" ? Number(value.trim()) : value;
}

/** A library's error message as a clause: no trailing period. */
function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim().replace(/\.$/, "");
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}
