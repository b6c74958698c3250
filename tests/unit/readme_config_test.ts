// The README and the code must agree: the configuration table with the settings
// declaration, and the errors table with the error codes.

import { assertEquals } from "../support/assert.ts";
import { ERROR_CODES } from "../../src/core/errors.ts";
import { settingEntries, type SettingName, SETTINGS } from "../../src/core/settings.ts";

const README = new URL("../../README.md", import.meta.url);

interface DocumentedSetting {
  readonly env: string;
  readonly flag: string | null;
  readonly shownDefault: string;
}

/** The rows of the README's "## Configuration" table, one entry per variable. */
function documentedSettings(markdown: string): DocumentedSetting[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Configuration\n"));
  if (!section) throw new Error("README has no ## Configuration section");
  const rows = section.split("\n").filter((line) => /^\| `[A-Z_]+`/.test(line));
  const documented: DocumentedSetting[] = [];
  for (const row of rows) {
    const [envCell, flagCell, defaultCell] = row.split(/(?<!\\)\|/).slice(1, 4).map((c) =>
      c.trim()
    ) as [string, string, string];
    const names = [...envCell.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    if (envCell.includes(" or ")) {
      // "`DATABASE_URL` or `POSTGRES_URL`": two names of one setting, one flag, one default.
      for (const [i, env] of names.entries()) {
        documented.push({
          env,
          flag: i === 0 ? flagOf(flagCell) : null,
          shownDefault: defaultCell,
        });
      }
      continue;
    }
    const flags = flagCell.split(" / ");
    const defaults = defaultCell.split(" / ");
    for (const [i, env] of names.entries()) {
      documented.push({
        env,
        flag: flagOf(flags[i] ?? ""),
        shownDefault: (names.length > 1 ? defaults[i] : defaultCell) ?? "",
      });
    }
  }
  return documented;
}

function flagOf(cell: string): string | null {
  return /`--([a-z-]+)`/.exec(cell)?.[1] ?? null;
}

function declaredDefault(env: SettingName): string {
  const setting = SETTINGS[env] as { default: string; shownDefault?: string };
  return setting.shownDefault ?? `\`${setting.default}\``;
}

Deno.test("the README's configuration table lists every setting once, as declared", async () => {
  const documented = documentedSettings(await Deno.readTextFile(README));
  assertEquals(
    documented.map((d) => d.env).sort(),
    settingEntries().map(([env]) => env).sort(),
    "variables in the README's table vs src/core/settings.ts",
  );
  for (const d of documented) {
    const env = d.env as SettingName;
    assertEquals(d.flag, SETTINGS[env].flag, `flag of ${env}`);
    assertEquals(d.shownDefault, declaredDefault(env), `default of ${env}`);
  }
});

Deno.test("the README's errors table lists every error code", async () => {
  const markdown = await Deno.readTextFile(README);
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Errors and exit codes\n"));
  const listed = new Set(
    [...(section ?? "").matchAll(/^\| (.*?) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`([A-Z_]+)`/g)].map((c) => c[1]!)
    ),
  );
  assertEquals(ERROR_CODES.filter((code) => !listed.has(code)), []);
});
