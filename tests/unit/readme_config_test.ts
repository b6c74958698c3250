// The manual and the code must agree: docs/configuration.md's settings table
// with the settings declaration (and the README's table of common settings with
// it too), and docs/errors.md's table with the error codes.

import { assertEquals } from "../support/assert.ts";
import { ERROR_CODES } from "../../src/core/errors.ts";
import { settingEntries, type SettingName, SETTINGS } from "../../src/core/settings.ts";

const README = new URL("../../README.md", import.meta.url);
const CONFIGURATION = new URL("../../docs/configuration.md", import.meta.url);
const ERRORS = new URL("../../docs/errors.md", import.meta.url);

interface DocumentedSetting {
  readonly env: string;
  readonly flag: string | null;
  readonly shownDefault: string;
}

/** The rows of a "## <heading>" table of settings, one entry per variable. */
function documentedSettings(markdown: string, heading: string): DocumentedSetting[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`no ## ${heading} section`);
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

Deno.test("docs/configuration.md lists every setting once, as declared", async () => {
  const documented = documentedSettings(await Deno.readTextFile(CONFIGURATION), "Settings");
  assertEquals(
    documented.map((d) => d.env).sort(),
    settingEntries().map(([env]) => env).sort(),
    "variables in docs/configuration.md vs src/core/settings.ts",
  );
  for (const d of documented) {
    const env = d.env as SettingName;
    assertEquals(d.flag, SETTINGS[env].flag, `flag of ${env}`);
    assertEquals(d.shownDefault, declaredDefault(env), `default of ${env}`);
  }
});

Deno.test("the README's common settings are settings, with their declared flags and defaults", async () => {
  const documented = documentedSettings(await Deno.readTextFile(README), "Configuration");
  const known = new Set(settingEntries().map(([env]) => env));
  assertEquals(documented.filter((d) => !known.has(d.env as SettingName)), []);
  for (const d of documented) {
    const env = d.env as SettingName;
    assertEquals(d.flag, SETTINGS[env].flag, `flag of ${env}`);
    assertEquals(d.shownDefault, declaredDefault(env), `default of ${env}`);
  }
});

Deno.test("docs/errors.md lists every error code", async () => {
  const markdown = await Deno.readTextFile(ERRORS);
  const listed = new Set(
    [...markdown.matchAll(/^\| (.*?) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`([A-Z_]+)`/g)].map((c) => c[1]!)
    ),
  );
  assertEquals(ERROR_CODES.filter((code) => !listed.has(code)), []);
});

Deno.test("the README stays a manual: at most 350 lines", async () => {
  const lines = (await Deno.readTextFile(README)).split("\n").length - 1;
  assertEquals(lines <= 350, true, `README.md has ${lines} lines`);
});
