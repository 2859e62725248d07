/**
 * Resident memory as the benchmarks count it. Guests run in child processes by default, so this
 * process's own RSS misses most of what a run costs; `treeRss` adds every direct child's.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Resident set of one process, in bytes (Linux /proc); 0 for a process that has exited. */
export function residentBytes(pid: number | "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** This process's resident set plus that of each of its direct children, in bytes. */
export function treeRss(): number {
  let total = process.memoryUsage().rss;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid) total += residentBytes(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

/** Samples `treeRss` every `everyMs` until stopped; `stop()` returns the peak seen. */
export function sampleTreeRss(everyMs = 10): { baseline: number; stop: () => number } {
  const baseline = treeRss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, treeRss())), everyMs);
  return {
    baseline,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, treeRss());
    },
  };
}

/** Resident set of process `pid` and all its descendants (children, grandchildren…), in bytes. */
export function processTreeRss(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      total += residentBytes(member);
    } catch {
      // ended while we looked
    }
  }
  return total;
}

/** CPU time used so far by process `pid` and its descendants, in clock ticks (user + system). */
export function processTreeCpuTicks(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended while we looked
    }
  }
  return total;
}

/** `pid` and all its descendants. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const siblings = children.get(ppid);
      if (siblings) siblings.push(Number(entry));
      else children.set(ppid, [Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const tree: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    tree.push(next);
    pending.push(...(children.get(next) ?? []));
  }
  return tree;
}
