/** Types of `run-view.js`, a browser module the node tests import too. */
import type { LoadedRun } from "./load-run.ts";

/** The whole run (the `/api/run` answer) as an element: a header, then its turns or a session's questions. */
export function renderRun(loaded: LoadedRun): object;
