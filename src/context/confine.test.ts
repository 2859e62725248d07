import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ContextLoadError } from "../errors.ts";
import { isInside, PathConfinement } from "./confine.ts";
import { loadContext } from "./load-context.ts";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "rlm-confine-")));
after(() => rmSync(dir, { recursive: true, force: true }));
const a = join(dir, "a");
const b = join(dir, "b");
mkdirSync(join(a, "docs"), { recursive: true });
mkdirSync(join(b, "logs"), { recursive: true });
writeFileSync(join(a, "docs", "one.md"), "one\n");
writeFileSync(join(b, "logs", "x.log"), "x\n");
writeFileSync(join(dir, "outside.txt"), "outside\n");
symlinkSync(join(dir, "outside.txt"), join(a, "docs", "out.md"));
symlinkSync(dir, join(a, "up")); // a linked folder that leads out

test("a root contains itself and what is under it, not a sibling sharing its prefix", () => {
  assert.ok(isInside("/srv/data", "/srv/data"));
  assert.ok(isInside("/srv/data", "/srv/data/x/y"));
  assert.ok(!isInside("/srv/data", "/srv/data-old/x"));
  assert.ok(!isInside("/srv/data", "/srv"));
});

test("a relative spec is found in whichever root holds it; an absolute one must be inside one", async () => {
  const confine = await PathConfinement.of([a, b]);
  assert.deepEqual(await confine.locate("logs/x.log"), { path: join(b, "logs", "x.log"), root: b });
  assert.deepEqual(await confine.locate("docs/*.md"), { path: join(a, "docs", "*.md"), root: a });
  assert.equal((await confine.locate(join(a, "docs"))).root, a);
  await assert.rejects(
    confine.locate(join(dir, "outside.txt")),
    /is outside the allowed folders\. Allowed folders: /,
  );
  await assert.rejects(confine.locate("docs/../../outside.txt"), /climbs out with \.\./);
  await assert.rejects(confine.locate("docs\\one.md"), /not a path with \/ separators/);
  await assert.rejects(confine.locate("nothing"), /"nothing" does not exist in any allowed folder/);
});

test("loading never reads through a link out of the roots, nor follows a linked folder", async () => {
  const confine = await PathConfinement.of([a]);
  const loaded = await loadContext(["."], { confine });
  assert.deepEqual(Object.keys(loaded.context as object), ["docs/one.md"]);
  assert.deepEqual(loaded.skipped, ["docs/out.md (outside the allowed folders)"]);
  await assert.rejects(
    loadContext(["docs/out.md"], { confine }),
    /is a link that leads outside the allowed folders/,
  );
  await assert.rejects(loadContext(["up/outside.txt"], { confine }), /link that leads outside/);
  await assert.rejects(loadContext(["-"], { confine }), /standard input\) cannot be read here/);
});

test("a root that is not a folder is refused when the confinement is made", async () => {
  await assert.rejects(PathConfinement.of([join(dir, "outside.txt")]), (error: unknown) => {
    assert.ok(error instanceof ContextLoadError);
    assert.match(error.message, /outside\.txt is not a folder/);
    return true;
  });
});
