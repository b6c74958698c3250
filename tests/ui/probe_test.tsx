import { render } from "ink-testing-library";
import { App } from "../../ui/app.tsx";
import type { WorkerCommand, WorkerEvent } from "../../src/protocol.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
Deno.test({ name: "probe" }, async () => {
  let listener: ((e: WorkerEvent) => void) | null = null;
  const source = { subscribe(l: (e: WorkerEvent) => void) { listener = l; return () => { listener = null; }; } };
  const sent: WorkerCommand[] = [];
  const app = render(<App events={source} send={(c) => sent.push(c)} onQuit={() => {}} size={{ columns: 80, rows: 24 }} />);
  await sleep(5);
  app.stdin.write("\t");
  for (const c of "SELECT 1") app.stdin.write(c);
  await sleep(20);
  console.log(app.lastFrame());
  app.stdin.write("\r");
  await sleep(20);
  console.log(sent);
  const start = app.frames.length;
  const t0 = Date.now();
  for (let i = 0; i < 100; i++) {
    listener!({ type: "notice", message: `n${i}` });
    await sleep(2);
  }
  console.log("elapsed", Date.now() - t0);
  await sleep(1000 - (Date.now() - t0));
  console.log("frames in 1s", app.frames.length - start);
  app.unmount();
});
