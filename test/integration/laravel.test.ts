import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  copyExample,
  describeFailure,
  discardProject,
  expectOk,
  httpGet,
  jsonField,
  shellIn,
  type TestProject,
  webUrlOf,
} from "./support/harness.js";

// The laravel preset with the real framework: an empty checkout comes up, `prodlike run
// create` makes the application with Laravel's own skeleton (composer create-project, from
// Packagist, in the cli container as the developer), `run install` runs its migrations,
// and then what Laravel does where a local environment must match production: a route
// reading MariaDB, a mail through Laravel's SMTP mailer into the catcher, a job through
// the Redis queue to the queue worker, a task of the scheduler, and artisan's cache
// clearing after a data change. The preset was added without a change to core.

let project: TestProject;
let firstUp: CliResult;
let webUrl = "";

const routes = `
use Illuminate\\Support\\Facades\\Cache;
use Illuminate\\Support\\Facades\\DB;
use Illuminate\\Support\\Facades\\Mail;

Route::get('/prodlike/db', fn () => ['database' => DB::selectOne('select database() as name')->name]);
Route::get('/prodlike/mail', function () {
    Mail::raw('Sent by Laravel', fn ($message) => $message->to('qa@example.com')->subject('Laravel through the catcher'));
    return ['sent' => true];
});
Route::get('/prodlike/queue', function () {
    dispatch(function () {
        Cache::put('prodlike-queued', 'done by the worker', 600);
    });
    return ['queued' => true];
});
Route::get('/prodlike/cache/{key}', fn (string $key) => ['value' => Cache::get($key)]);
`;

const schedule = `
use Illuminate\\Support\\Facades\\Schedule;

Schedule::call(function () {
    Illuminate\\Support\\Facades\\Cache::put('prodlike-scheduled', now()->toIso8601String(), 600);
})->everyMinute();
`;

async function json(url: string): Promise<Record<string, unknown>> {
  const page = await httpGet(url);
  expect(page.status, page.body.slice(0, 2000)).toBe(200);
  return JSON.parse(page.body) as Record<string, unknown>;
}

async function until<T>(what: () => Promise<T>, ok: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await what();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(2000);
    value = await what();
  }
  return value;
}

/** A job dispatched from a route is run by the queue worker (it writes the cache). */
async function expectQueuedJobRun(): Promise<void> {
  expect(await json(`${webUrl}/prodlike/queue`)).toEqual({ queued: true });
  const value = await until(
    () => json(`${webUrl}/prodlike/cache/prodlike-queued`),
    (answer) => answer.value === "done by the worker",
    60_000,
  );
  expect(value.value).toBe("done by the worker");
}

beforeAll(async () => {
  project = await copyExample("it-laravel", "laravel-basic");
  firstUp = await project.cli(["up", "--json"]);
}, 900_000);

afterAll(async () => {
  await discardProject(project);
});

describe("laravel preset (the real framework)", { timeout: 900_000 }, () => {
  it("comes up on an empty checkout, saying there is no application yet", () => {
    expectOk(firstUp);
    expect(jsonField<{ present: boolean; entry: string }>(firstUp, "application")).toEqual({
      present: false,
      entry: "public/index.php",
    });
    webUrl = webUrlOf(firstUp);
  });

  it("creates the application with composer in the cli container, as the developer", async () => {
    const created = await project.cli(["run", "create"]);
    expect(created.exitCode, describeFailure(created)).toBe(0);
    const artisan = await readFile(path.join(project.dir, "artisan"), "utf8");
    expect(artisan).toContain("Illuminate");
    // Laravel's own page answers now (run create waited for it through up).
    const page = await httpGet(`${webUrl}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("Laravel");
    // Files composer wrote are the developer's.
    const owner = await shellIn(project, "cli", "stat -c %u vendor/autoload.php && id -u");
    const [file, me] = owner.stdout.trim().split("\n");
    expect(file).toBe(me);
  });

  it("runs the migrations with run install, and up then reports an installed application", async () => {
    expectOk(await project.cli(["run", "install"]));
    const up = await project.cli(["up", "--json"]);
    expectOk(up);
    expect(jsonField<{ installed: boolean }>(up, "install").installed).toBe(true);
    expect(jsonField<boolean>(up, "changed")).toBe(false);
  });

  it("serves a route that reads MariaDB", async () => {
    await appendFile(path.join(project.dir, "routes", "web.php"), routes);
    expect(await json(`${webUrl}/prodlike/db`)).toEqual({ database: "laravel" });
  });

  it("sends Laravel's mail to the catcher", async () => {
    expect(await json(`${webUrl}/prodlike/mail`)).toEqual({ sent: true });
    const mailUrl = jsonField<Record<string, string>>(
      await project.cli(["status", "--json"]),
      "urls",
    ).mail;
    const listed = (await (await fetch(`${mailUrl}/api/v1/messages`)).json()) as {
      messages: { Subject: string; To: { Address: string }[] }[];
    };
    const mail = listed.messages.find(
      (message) => message.Subject === "Laravel through the catcher",
    );
    expect(mail?.To.map((to) => to.Address)).toEqual(["qa@example.com"]);
  });

  it("runs a queued job in the queue worker, through Redis", async () => {
    await expectQueuedJobRun();
  });

  it("runs the scheduler's task every minute", async () => {
    await appendFile(path.join(project.dir, "routes", "console.php"), schedule);
    const value = await until(
      () => json(`${webUrl}/prodlike/cache/prodlike-scheduled`),
      (answer) => typeof answer.value === "string",
      150_000,
    );
    expect(value.value).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it("clears Laravel's caches and restarts the workers after a data change", async () => {
    expectOk(await shellIn(project, "cli", "php artisan config:cache"));
    const dump = (await shellIn(project, "db", 'mariadb-dump "$MARIADB_DATABASE"')).stdout;
    const imported = await project.cli(["db", "import", "-", "--json"], { input: dump });
    expectOk(imported);
    expect(jsonField<string[]>(imported, "refreshed")).toEqual(
      expect.arrayContaining([
        "php-fpm reloaded (APCu, opcache)",
        "artisan optimize:clear",
        "queue workers restarted",
      ]),
    );
    const cached = await shellIn(
      project,
      "cli",
      "test -f bootstrap/cache/config.php && echo cached",
    );
    expect(cached.stdout.trim()).toBe("");
    // The worker that queue:restart made exit is back, and takes jobs again.
    expectOk(await shellIn(project, "redis", "redis-cli -n 1 FLUSHDB"));
    await expectQueuedJobRun();
  });
});
